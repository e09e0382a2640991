package credvault

import (
	"context"
	"io"
	"log"
	"math/rand"
	"sync"
	"time"

	credvaultv1 "github.com/credvault/credvault/clients/go/credvault/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	watchHeader     = "credvault-watch"      // initial metadata the server sends ("live") once a watch is in place
	watchStable     = time.Second            // how long a stream must have been open for its end to reset the backoff
	watchFirstDelay = 100 * time.Millisecond // before the first reconnection; doubled after each failed one
	watchMaxDelay   = 30 * time.Second
)

// tenantWatch holds one tenant's WatchConnectionEvents stream open for the header cache: reconnected
// with backoff (full jitter) and resumed from the last cursor seen. onGap runs whenever the stream
// becomes live with no cursor to resume from (the first time, and after OUT_OF_RANGE): events may have
// been missed, so what is cached for the tenant is suspect. settled is closed once the stream is live or
// has failed once. While the stream is down the log says so once, and again when it is back.
type tenantWatch struct {
	tenant  string
	raw     credvaultv1.CredentialVaultClient
	onEvent func(*credvaultv1.ConnectionEvent)
	onGap   func()
	logger  *log.Logger

	ctx     context.Context
	stop    context.CancelFunc
	settled chan struct{}
	settle  sync.Once
	mu      sync.Mutex
	live    bool
}

func startWatch(raw credvaultv1.CredentialVaultClient, tenant string, logger *log.Logger,
	onEvent func(*credvaultv1.ConnectionEvent), onGap func()) *tenantWatch {
	ctx, stop := context.WithCancel(context.Background())
	w := &tenantWatch{tenant: tenant, raw: raw, onEvent: onEvent, onGap: onGap, logger: logger,
		ctx: ctx, stop: stop, settled: make(chan struct{})}
	go w.run()
	return w
}

// isLive says whether the stream is open right now.
func (w *tenantWatch) isLive() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.live
}

func (w *tenantWatch) setLive(live bool) {
	w.mu.Lock()
	w.live = live
	w.mu.Unlock()
	w.settle.Do(func() { close(w.settled) })
}

func (w *tenantWatch) run() {
	cursor := ""
	delay := watchFirstDelay
	downLogged := false
	for {
		var liveSince time.Time
		err := w.follow(&cursor, func() {
			liveSince = time.Now()
			if downLogged {
				w.logger.Printf("credvault: watching tenant %s's connection events again", w.tenant)
				downLogged = false
			}
		})
		w.setLive(false)
		if w.ctx.Err() != nil {
			return
		}
		if status.Code(err) == codes.OutOfRange {
			cursor = "" // too old to resume: watch from now at once; onGap drops what may be stale
			continue
		}
		if err != nil && !downLogged {
			w.logger.Printf("credvault: cannot watch tenant %s's connection events (%v); cached auth headers "+
				"are reused until their cache_ttl and no longer, until the stream is back", w.tenant, err)
			downLogged = true
		}
		if !liveSince.IsZero() && time.Since(liveSince) >= watchStable {
			delay = watchFirstDelay
		}
		select {
		case <-w.ctx.Done():
			return
		case <-time.After(time.Duration(rand.Int63n(int64(delay)))):
		}
		if delay *= 2; delay > watchMaxDelay {
			delay = watchMaxDelay
		}
	}
}

// follow opens the stream after *cursor and reads it until it ends; nil when the server ended it.
func (w *tenantWatch) follow(cursor *string, onLive func()) error {
	stream, err := w.raw.WatchConnectionEvents(w.ctx,
		&credvaultv1.WatchConnectionEventsRequest{TenantId: w.tenant, After: *cursor})
	if err != nil {
		return err
	}
	// The server sends its headers, with watchHeader, once it has subscribed us (a refusal comes with
	// none); a server that sends no watchHeader is known to be live by its first event.
	header, err := stream.Header()
	if err != nil {
		return err
	}
	resumed, live := *cursor != "", false
	wentLive := func() {
		live = true
		if !resumed {
			w.onGap()
		}
		w.setLive(true)
		onLive()
	}
	if values := header.Get(watchHeader); len(values) > 0 && values[0] == "live" {
		wentLive()
	}
	for {
		event, err := stream.Recv()
		if err != nil {
			if err == io.EOF { // the server ended the stream
				return nil
			}
			return err
		}
		if !live {
			wentLive()
		}
		if event.GetCursor() != "" {
			*cursor = event.GetCursor()
		}
		w.onEvent(event)
	}
}
