package credvault

import (
	"container/list"
	"context"
	"errors"
	"log"
	"sync"
	"time"

	credvaultv1 "github.com/credvault/credvault/clients/go/credvault/v1"
	"golang.org/x/sync/singleflight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// DefaultCacheSize is how many connections the header cache keeps unless Options.CacheSize says.
const DefaultCacheSize = 10000

const (
	// watchWait is how long a tenant's first miss waits for its event stream to open before it
	// fetches anyway (so no change falls between the answer and the stream).
	watchWait = time.Second
	// pruneEvery is how often (at most, on a miss) streams of tenants with no entries are closed.
	pruneEvery = 10 * time.Second
)

type cacheKey struct{ tenant, connection string }

type cacheEntry struct {
	key      cacheKey
	response *credvaultv1.GetAuthHeadersResponse
	until    time.Time
}

// headerCache keeps GetAuthHeaders answers in memory (Options.CacheAuthHeaders).
//
// An answer is reused while it is younger than the cache_ttl the server gave it, never longer; an
// answer with no cache_ttl (0) and a failed call are not kept. Within that time a change reaches the
// cache sooner: for every tenant it holds entries of, it follows the tenant's WatchConnectionEvents
// stream and drops a connection's entry on any event for it. When the stream cannot be held (the
// caller may not watch, the server is away) entries live out their cache_ttl. Concurrent misses for one
// connection make one call (singleflight), run apart from its first caller's cancellation but within
// that caller's deadline; every caller stops waiting when its own ctx is done. A fetch that raced with an event for its tenant is answered
// but not kept. Size is bounded: least recently used entries go first (container/list).
type headerCache struct {
	raw     credvaultv1.CredentialVaultClient
	logger  *log.Logger
	size    int
	timeout time.Duration // a caller's deadline when its ctx has none
	group   singleflight.Group

	mu       sync.Mutex
	entries  map[cacheKey]*list.Element
	order    *list.List // front: most recently used
	tickets  map[string]uint64
	watches  map[string]*tenantWatch
	pending  map[string]int // misses in flight, by tenant
	prunedAt time.Time
	closed   bool
}

func newHeaderCache(raw credvaultv1.CredentialVaultClient, size int, timeout time.Duration,
	logger *log.Logger) *headerCache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	if logger == nil {
		logger = log.Default()
	}
	return &headerCache{raw: raw, logger: logger, size: size, timeout: timeout, entries: map[cacheKey]*list.Element{},
		order: list.New(), tickets: map[string]uint64{}, watches: map[string]*tenantWatch{},
		pending: map[string]int{}, prunedAt: time.Now()}
}

func (c *headerCache) get(ctx context.Context, in *credvaultv1.GetAuthHeadersRequest,
	opts ...grpc.CallOption) (*credvaultv1.GetAuthHeadersResponse, error) {
	key := cacheKey{in.GetTenantId(), in.GetConnectionId()}
	if response := c.lookup(key); response != nil {
		return response, nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	// Ids never hold a NUL byte, so the flight key is unambiguous.
	flight := c.group.DoChan(key.tenant+"\x00"+key.connection, func() (interface{}, error) {
		deadline, _ := ctx.Deadline()
		missCtx, cancel := context.WithDeadline(detached{ctx}, deadline)
		defer cancel()
		return c.miss(missCtx, key, in, opts)
	})
	select {
	case result := <-flight:
		if result.Err != nil {
			return nil, result.Err
		}
		return result.Val.(*credvaultv1.GetAuthHeadersResponse), nil
	case <-ctx.Done():
		return nil, contextStatus(ctx.Err())
	}
}

// detached keeps a context's values (the call's metadata) but not its cancellation or deadline
// (context.WithoutCancel, which needs Go 1.21).
type detached struct{ context.Context }

func (detached) Deadline() (time.Time, bool) { return time.Time{}, false }
func (detached) Done() <-chan struct{}       { return nil }
func (detached) Err() error                  { return nil }

// contextStatus is a ctx error as the status a gRPC call ending the same way would have.
func contextStatus(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	return status.Error(codes.Canceled, err.Error())
}

func (c *headerCache) lookup(key cacheKey) *credvaultv1.GetAuthHeadersResponse {
	c.mu.Lock()
	defer c.mu.Unlock()
	element, ok := c.entries[key]
	if !ok {
		return nil
	}
	entry := element.Value.(*cacheEntry)
	if !time.Now().Before(entry.until) {
		c.remove(element)
		return nil
	}
	c.order.MoveToFront(element)
	return entry.response
}

func (c *headerCache) miss(ctx context.Context, key cacheKey, in *credvaultv1.GetAuthHeadersRequest,
	opts []grpc.CallOption) (*credvaultv1.GetAuthHeadersResponse, error) {
	watch, err := c.watch(key.tenant)
	if err != nil {
		return nil, err
	}
	defer func() {
		c.mu.Lock()
		if c.pending[key.tenant]--; c.pending[key.tenant] == 0 {
			delete(c.pending, key.tenant)
		}
		c.mu.Unlock()
	}()
	select {
	case <-watch.settled:
	case <-time.After(watchWait):
	case <-ctx.Done():
		return nil, contextStatus(ctx.Err())
	}
	c.mu.Lock()
	ticket := c.tickets[key.tenant]
	c.mu.Unlock()
	response, err := c.raw.GetAuthHeaders(ctx, in, opts...)
	if err != nil {
		return nil, err
	}
	ttl := response.GetCacheTtl().AsDuration()
	c.mu.Lock()
	if ttl > 0 && !c.closed && c.tickets[key.tenant] == ticket {
		c.store(&cacheEntry{key: key, response: response, until: time.Now().Add(ttl)})
	}
	c.mu.Unlock()
	c.prune(key.tenant)
	return response, nil
}

// store puts an entry in, evicting the least recently used beyond the size. Needs c.mu.
func (c *headerCache) store(entry *cacheEntry) {
	if old, ok := c.entries[entry.key]; ok {
		c.remove(old)
	}
	c.entries[entry.key] = c.order.PushFront(entry)
	for c.order.Len() > c.size {
		c.remove(c.order.Back())
	}
}

// remove takes an entry out. Needs c.mu.
func (c *headerCache) remove(element *list.Element) {
	c.order.Remove(element)
	delete(c.entries, element.Value.(*cacheEntry).key)
}

// drop forgets one connection's entry (and any answer in flight for its tenant).
func (c *headerCache) drop(tenant, connection string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tickets[tenant]++
	if element, ok := c.entries[cacheKey{tenant, connection}]; ok {
		c.remove(element)
	}
}

func (c *headerCache) dropTenant(tenant string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tickets[tenant]++
	for key, element := range c.entries {
		if key.tenant == tenant {
			c.remove(element)
		}
	}
}

func (c *headerCache) watch(tenant string) (*tenantWatch, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("credvault: the client is closed")
	}
	c.pending[tenant]++
	watch, ok := c.watches[tenant]
	if !ok {
		watch = startWatch(c.raw, tenant, c.logger,
			func(event *credvaultv1.ConnectionEvent) { c.drop(event.GetTenantId(), event.GetConnectionId()) },
			func() { c.dropTenant(tenant) })
		c.watches[tenant] = watch
	}
	return watch, nil
}

// prune closes the streams of tenants with no entries left and no miss in flight but the caller's.
func (c *headerCache) prune(caller string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if now.Sub(c.prunedAt) < pruneEvery {
		return
	}
	c.prunedAt = now
	held := map[string]bool{}
	for key, element := range c.entries {
		if now.Before(element.Value.(*cacheEntry).until) {
			held[key.tenant] = true
		} else {
			c.remove(element)
		}
	}
	for tenant, watch := range c.watches {
		if pending := c.pending[tenant]; !held[tenant] && (pending == 0 || tenant == caller && pending == 1) {
			watch.stop()
			delete(c.watches, tenant)
		}
	}
}

func (c *headerCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for tenant, watch := range c.watches {
		watch.stop()
		delete(c.watches, tenant)
	}
	c.entries = map[cacheKey]*list.Element{}
	c.order.Init()
}
