//go:build replicas

package credvault_test

// The auth header cache against two live replicas on one OpenBao (tests/integration/test_client_cache.py
// starts them and sets the environment): changes go through replica A, the cached client reads and
// watches through replica B, and B's metrics count the GetAuthHeaders calls it answered.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credvault/credvault/clients/go/credvault"
	credvaultv1 "github.com/credvault/credvault/clients/go/credvault/v1"
	"google.golang.org/grpc/codes"
)

func cacheClient(t *testing.T, address, role string, options credvault.Options) *credvault.Client {
	if os.Getenv("CREDVAULT_REPLICA_B") == "" {
		t.Skip("needs the replicas from tests/integration/test_client_cache.py")
	}
	options.Insecure = true
	options.Token = os.Getenv("CREDVAULT_TOKEN_" + strings.ToUpper(role))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := credvault.Dial(ctx, address, options)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

// headerCalls is how many GetAuthHeaders calls the server has answered, whatever their outcome.
func headerCalls(t *testing.T, metricsURL string) float64 {
	response, err := http.Get(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	total := 0.0
	lines := bufio.NewScanner(response.Body)
	for lines.Scan() {
		line := lines.Text()
		if strings.HasPrefix(line, "credvault_rpc_duration_seconds_count{") && strings.Contains(line, `method="GetAuthHeaders"`) {
			value, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
			if err != nil {
				t.Fatal(err)
			}
			total += value
		}
	}
	return total
}

// servedKey is the key the client hands out now, or the code of the error it fails with.
func servedKey(client *credvault.Client, ids *credvaultv1.GetAuthHeadersRequest) string {
	auth, err := client.GetAuthHeaders(context.Background(), ids)
	if err != nil {
		return credvault.Details(err).Code.String()
	}
	return auth.GetHeaders()["x-api-key"]
}

func eventually(check func() bool) bool {
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if check() {
			return true
		}
	}
	return check()
}

var connections = 0

func newConnection(t *testing.T, admin *credvault.Client) *credvaultv1.GetAuthHeadersRequest {
	connections++
	tenant := fmt.Sprintf("go-cache-%d-%d", os.Getpid(), connections)
	_, err := admin.CreateConnection(context.Background(), &credvaultv1.CreateConnectionRequest{
		TenantId: tenant, ConnectionId: "jc", Provider: "jumpcloud",
		Credentials: map[string]string{"api_key": os.Getenv("CREDVAULT_TEST_JUMPCLOUD_KEY")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &credvaultv1.GetAuthHeadersRequest{TenantId: tenant, ConnectionId: "jc"}
}

func idsFrom(variable string) *credvaultv1.GetAuthHeadersRequest {
	parts := strings.SplitN(os.Getenv(variable)+"/", "/", 3)
	return &credvaultv1.GetAuthHeadersRequest{TenantId: parts[0], ConnectionId: parts[1]}
}

// TestCacheJoinerKeepsItsOwnDeadline: a listener takes connections and never answers, so the first
// caller's miss hangs. That caller is cancelled; a second caller for the same connection is not failed by
// it but waits for the call until its own deadline and gets DEADLINE_EXCEEDED.
func TestCacheJoinerKeepsItsOwnDeadline(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			accepted <- conn
		}
	}()
	cached := cacheClient(t, listener.Addr().String(), "worker", credvault.Options{CacheAuthHeaders: true})
	t.Cleanup(func() {
		listener.Close()
		for len(accepted) > 0 {
			(<-accepted).Close()
		}
	})
	ids := &credvaultv1.GetAuthHeadersRequest{TenantId: "t-silent", ConnectionId: "jc"}
	leaderCtx, cancelLeader := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelLeader()
	leader := make(chan error, 1)
	go func() {
		_, err := cached.GetAuthHeaders(leaderCtx, ids)
		leader <- err
	}()
	conn := <-accepted // the leader's miss is in flight
	accepted <- conn
	joinerCtx, cancelJoiner := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancelJoiner()
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancelLeader()
	}()
	_, err = cached.GetAuthHeaders(joinerCtx, ids)
	if code := credvault.Details(err).Code; code != codes.DeadlineExceeded {
		t.Fatalf("joiner: %v, want DeadlineExceeded", err)
	}
	if code := credvault.Details(<-leader).Code; code != codes.Canceled {
		t.Fatalf("leader: %v, want Canceled", code)
	}
}

func TestCacheHitMakesNoCall(t *testing.T) {
	cached := cacheClient(t, os.Getenv("CREDVAULT_REPLICA_B"), "worker", credvault.Options{CacheAuthHeaders: true})
	admin := cacheClient(t, os.Getenv("CREDVAULT_REPLICA_A"), "admin", credvault.Options{})
	ids := newConnection(t, admin)
	metrics := os.Getenv("CREDVAULT_REPLICA_B_METRICS")
	before := headerCalls(t, metrics)
	for i := 0; i < 200; i++ {
		if got := servedKey(cached, ids); got != os.Getenv("CREDVAULT_TEST_JUMPCLOUD_KEY") {
			t.Fatalf("call %d: %s", i, got)
		}
	}
	if calls := headerCalls(t, metrics) - before; calls != 1 {
		t.Fatalf("%v calls, want 1", calls)
	}
}

func TestCacheConcurrentMissesMakeOneCall(t *testing.T) {
	cached := cacheClient(t, os.Getenv("CREDVAULT_REPLICA_B"), "worker", credvault.Options{CacheAuthHeaders: true})
	admin := cacheClient(t, os.Getenv("CREDVAULT_REPLICA_A"), "admin", credvault.Options{})
	ids := newConnection(t, admin)
	metrics := os.Getenv("CREDVAULT_REPLICA_B_METRICS")
	before := headerCalls(t, metrics)
	var wg sync.WaitGroup
	keys := make([]string, 8)
	for i := range keys {
		wg.Add(1)
		go func(i int) { defer wg.Done(); keys[i] = servedKey(cached, ids) }(i)
	}
	wg.Wait()
	for _, key := range keys {
		if key != os.Getenv("CREDVAULT_TEST_JUMPCLOUD_KEY") {
			t.Fatalf("got %v", keys)
		}
	}
	if calls := headerCalls(t, metrics) - before; calls != 1 {
		t.Fatalf("%v calls, want 1", calls)
	}
}

func TestCacheFailuresAreNotCached(t *testing.T) {
	cached := cacheClient(t, os.Getenv("CREDVAULT_REPLICA_B"), "worker", credvault.Options{CacheAuthHeaders: true})
	invalid := idsFrom("CREDVAULT_TEST_INVALID")
	missing := &credvaultv1.GetAuthHeadersRequest{TenantId: invalid.TenantId, ConnectionId: "no-such-connection"}
	metrics := os.Getenv("CREDVAULT_REPLICA_B_METRICS")
	before := headerCalls(t, metrics)
	for i := 0; i < 2; i++ {
		if got := servedKey(cached, missing); got != "NotFound" {
			t.Fatalf("missing: %s", got)
		}
		if got := servedKey(cached, invalid); got != "FailedPrecondition" {
			t.Fatalf("invalid: %s", got)
		}
	}
	if calls := headerCalls(t, metrics) - before; calls != 4 {
		t.Fatalf("%v calls, want 4", calls)
	}
}

func TestCacheWithoutTheStreamAnEntryLivesItsCacheTTL(t *testing.T) {
	var said bytes.Buffer
	var mu sync.Mutex
	logger := log.New(writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return said.Write(p) }), "", 0)
	cached := cacheClient(t, os.Getenv("CREDVAULT_SHORT"), "blind", credvault.Options{CacheAuthHeaders: true, Logger: logger})
	admin := cacheClient(t, os.Getenv("CREDVAULT_REPLICA_A"), "admin", credvault.Options{})
	ids := newConnection(t, admin)
	key, metrics := os.Getenv("CREDVAULT_TEST_JUMPCLOUD_KEY"), os.Getenv("CREDVAULT_SHORT_METRICS")
	before := headerCalls(t, metrics)
	if got := servedKey(cached, ids); got != key || headerCalls(t, metrics)-before != 1 {
		t.Fatalf("first call: %s", got)
	}
	if !eventually(func() bool { return servedKey(cached, ids) == key && headerCalls(t, metrics)-before == 2 }) {
		t.Fatal("not asked again once cache_ttl had passed")
	}
	mu.Lock()
	defer mu.Unlock()
	if text := said.String(); strings.Count(text, "cannot watch") != 1 || !strings.Contains(text, "PermissionDenied") {
		t.Fatalf("log: %s", text)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func testChangeReachesCache(t *testing.T, change string) {
	cached := cacheClient(t, os.Getenv("CREDVAULT_REPLICA_B"), "worker", credvault.Options{CacheAuthHeaders: true})
	admin := cacheClient(t, os.Getenv("CREDVAULT_REPLICA_A"), "admin", credvault.Options{})
	ctx := context.Background()
	var ids *credvaultv1.GetAuthHeadersRequest
	if change == "invalidate" {
		ids = idsFrom("CREDVAULT_TEST_REVOKED")
	} else {
		ids = newConnection(t, admin)
	}
	metrics := os.Getenv("CREDVAULT_REPLICA_B_METRICS")
	original := servedKey(cached, ids) // the first miss waits for the tenant's stream to open
	before := headerCalls(t, metrics)
	if got := servedKey(cached, ids); got != original || headerCalls(t, metrics) != before {
		t.Fatalf("not served from memory: %s", got)
	}
	var want string
	var err error
	switch change {
	case "update":
		want = os.Getenv("CREDVAULT_TEST_JUMPCLOUD_KEY_2")
		_, err = admin.UpdateConnection(ctx, &credvaultv1.UpdateConnectionRequest{TenantId: ids.TenantId,
			ConnectionId: ids.ConnectionId, Credentials: map[string]string{"api_key": want}})
	case "delete":
		want = "NotFound"
		_, err = admin.DeleteConnection(ctx, &credvaultv1.DeleteConnectionRequest{TenantId: ids.TenantId, ConnectionId: ids.ConnectionId})
	default:
		want = "FailedPrecondition"
		var verified *credvaultv1.VerifyConnectionResponse
		verified, err = admin.VerifyConnection(ctx, &credvaultv1.VerifyConnectionRequest{TenantId: ids.TenantId, ConnectionId: ids.ConnectionId})
		if err == nil && verified.GetOutcome().GetOk() {
			t.Fatal("the revoked key passed its check")
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if !eventually(func() bool { return servedKey(cached, ids) == want }) {
		t.Fatalf("still served %s, want %s", servedKey(cached, ids), want)
	}
}

func TestCacheUpdateThroughAnotherReplicaReachesIt(t *testing.T) { testChangeReachesCache(t, "update") }
func TestCacheDeleteThroughAnotherReplicaReachesIt(t *testing.T) { testChangeReachesCache(t, "delete") }
func TestCacheInvalidationThroughAnotherReplicaReachesIt(t *testing.T) {
	testChangeReachesCache(t, "invalidate")
}

// freezingProxy forwards TCP connections to upstream; freeze makes the connections open so far forward
// nothing either way, yet closes none (a partition, a frozen host). Later connections are forwarded (the
// path is back), so a client that notices can reconnect.
func freezingProxy(t *testing.T, upstream string) (address string, freeze func()) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	frozen := map[net.Conn]*atomic.Bool{}
	go func() {
		for {
			down, err := listener.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				down.Close()
				continue
			}
			stop := &atomic.Bool{}
			mu.Lock()
			conns = append(conns, down, up)
			frozen[down] = stop
			mu.Unlock()
			go pump(down, up, stop)
			go pump(up, down, stop)
		}
	}()
	t.Cleanup(func() {
		listener.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, conn := range conns {
			conn.Close()
		}
	})
	return listener.Addr().String(), func() {
		mu.Lock()
		defer mu.Unlock()
		for _, stop := range frozen {
			stop.Store(true)
		}
	}
}

func pump(from, to net.Conn, frozen *atomic.Bool) {
	buffer := make([]byte, 64*1024)
	for {
		n, err := from.Read(buffer)
		if n > 0 && !frozen.Load() {
			to.Write(buffer[:n])
		}
		if err != nil {
			break
		}
	}
	if !frozen.Load() {
		to.(*net.TCPConn).CloseWrite() // pass the end on, as a live path would
	}
}

// TestCacheFrozenConnectionIsNoticed: both clients cache through one proxy in front of B; it freezes and
// the key is rotated through A. Only the pinging client notices (a ping after 10 s, grpc-go's floor, and
// 1 s for the answer), reconnects and replays the update, long before cache_ttl (300 s).
func TestCacheFrozenConnectionIsNoticed(t *testing.T) {
	admin := cacheClient(t, os.Getenv("CREDVAULT_REPLICA_A"), "admin", credvault.Options{})
	address, freeze := freezingProxy(t, os.Getenv("CREDVAULT_REPLICA_B"))
	pinging := cacheClient(t, address, "worker", credvault.Options{CacheAuthHeaders: true,
		KeepaliveTime: 10 * time.Second, KeepaliveTimeout: time.Second})
	silent := cacheClient(t, address, "worker", credvault.Options{CacheAuthHeaders: true, KeepaliveTime: -1})
	ids := newConnection(t, admin)
	first, second := os.Getenv("CREDVAULT_TEST_JUMPCLOUD_KEY"), os.Getenv("CREDVAULT_TEST_JUMPCLOUD_KEY_2")
	for _, cached := range []*credvault.Client{pinging, silent} {
		if got := servedKey(cached, ids); got != first { // the first miss waits for the stream to open
			t.Fatalf("served %s, want %s", got, first)
		}
	}
	freeze()
	_, err := admin.UpdateConnection(context.Background(), &credvaultv1.UpdateConnectionRequest{
		TenantId: ids.TenantId, ConnectionId: ids.ConnectionId, Credentials: map[string]string{"api_key": second}})
	if err != nil {
		t.Fatal(err)
	}
	updated := time.Now()
	if got := servedKey(pinging, ids); got != first {
		t.Fatalf("served %s before the freeze was noticed, want %s from memory", got, first)
	}
	deadline := updated.Add(40 * time.Second)
	for servedKey(pinging, ids) != second && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := servedKey(pinging, ids); got != second {
		t.Fatalf("still served %s after the freeze, want %s", got, second)
	}
	t.Logf("the new key was served %.1f s after the update", time.Since(updated).Seconds())
	if got := servedKey(silent, ids); got != first {
		t.Fatalf("the client without pings served %s, want %s from memory", got, first)
	}
}
