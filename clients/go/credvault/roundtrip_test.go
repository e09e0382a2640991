package credvault_test

// Against a live credvault (tests/integration/test_clients.py starts it and sets the environment):
// CREDVAULT_ADDRESS (host:port, plaintext) and CREDVAULT_TEST_JUMPCLOUD_KEY, a key the provider accepts.

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/credvault/credvault/clients/go/credvault"
	credvaultv1 "github.com/credvault/credvault/clients/go/credvault/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
)

func dial(t *testing.T) (*credvault.Client, string) {
	address, key := os.Getenv("CREDVAULT_ADDRESS"), os.Getenv("CREDVAULT_TEST_JUMPCLOUD_KEY")
	if address == "" || key == "" {
		t.Skip("needs CREDVAULT_ADDRESS and CREDVAULT_TEST_JUMPCLOUD_KEY")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := credvault.Dial(ctx, address, credvault.Options{Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client, key
}

func TestRoundTrip(t *testing.T) {
	client, key := dial(t)
	ctx := context.Background()
	tenant := fmt.Sprintf("go-%d", time.Now().UnixNano())

	created, err := client.CreateConnection(ctx, &credvaultv1.CreateConnectionRequest{
		TenantId: tenant, ConnectionId: "jc", Provider: "jumpcloud", Credentials: map[string]string{"api_key": key},
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.GetStatus() != credvaultv1.ConnectionStatus_CONNECTION_STATUS_ACTIVE {
		t.Fatalf("status %v", created.GetStatus())
	}
	ids := &credvaultv1.GetAuthHeadersRequest{TenantId: tenant, ConnectionId: "jc"}
	auth, err := client.GetAuthHeaders(ctx, ids)
	if err != nil || auth.GetHeaders()["x-api-key"] != key || !strings.HasSuffix(auth.GetBaseUrl(), "/api") {
		t.Fatalf("headers: %v (base URL %q)", err, auth.GetBaseUrl())
	}
	verified, err := client.VerifyConnection(ctx, &credvaultv1.VerifyConnectionRequest{TenantId: tenant, ConnectionId: "jc"})
	if err != nil || !verified.GetOutcome().GetOk() {
		t.Fatalf("verify: %v %v", err, verified.GetOutcome())
	}
	if _, err := client.DeleteConnection(ctx, &credvaultv1.DeleteConnectionRequest{TenantId: tenant, ConnectionId: "jc"}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = client.GetAuthHeaders(ctx, ids)
	if got := credvault.Details(err).Code; got != codes.NotFound {
		t.Fatalf("after delete: %v", err)
	}
}

func TestErrorDetails(t *testing.T) {
	client, _ := dial(t)
	_, err := client.CreateConnection(context.Background(), &credvaultv1.CreateConnectionRequest{
		TenantId: "../x", ConnectionId: "a/b", Provider: "jumpcloud",
	})
	details := credvault.Details(err)
	fields := map[string]bool{}
	for _, v := range details.Violations {
		fields[v.Field] = true
	}
	if details.Code != codes.InvalidArgument || !fields["tenant_id"] || !fields["connection_id"] {
		t.Fatalf("got %+v", details)
	}

	_, err = client.CreateConnection(context.Background(), &credvaultv1.CreateConnectionRequest{
		TenantId: "go", Provider: "jumpcloud", Credentials: map[string]string{"api_key": "jca_not_a_key_the_fake_knows"},
	})
	details = credvault.Details(err)
	if details.Code != codes.FailedPrecondition || details.Reason != "CREDENTIALS_REJECTED" ||
		details.Metadata["provider"] != "jumpcloud" || len(details.HelpLinks) == 0 {
		t.Fatalf("got %+v", details)
	}
}

func TestConnectSessions(t *testing.T) {
	client, _ := dial(t)
	ctx := context.Background()
	tenant := fmt.Sprintf("go-%d", time.Now().UnixNano())

	made, err := client.CreateConnectSession(ctx, &credvaultv1.CreateConnectSessionRequest{
		TenantId: tenant, Providers: []string{"jumpcloud"}, Ttl: durationpb.New(90 * time.Second),
	})
	if err != nil || !strings.HasPrefix(made.GetConnectUrl(), "http") ||
		made.GetState() != credvaultv1.ConnectSessionState_CONNECT_SESSION_STATE_PENDING {
		t.Fatalf("create: %v %v", err, made)
	}
	got, err := client.GetConnectSession(ctx, &credvaultv1.GetConnectSessionRequest{TenantId: tenant, SessionId: made.GetSessionId()})
	if err != nil || got.GetConnectUrl() != "" || got.GetExpiresAt().AsTime().Sub(got.GetCreatedAt().AsTime()) != 90*time.Second {
		t.Fatalf("get: %v %v", err, got)
	}
	_, err = client.GetConnectSession(ctx, &credvaultv1.GetConnectSessionRequest{TenantId: tenant, SessionId: "no-such-session"})
	if got := credvault.Details(err).Code; got != codes.NotFound {
		t.Fatalf("unknown session: %v", err)
	}
}

func TestWatchEvents(t *testing.T) {
	client, key := dial(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tenant := fmt.Sprintf("go-%d", time.Now().UnixNano())
	create := func(id string) {
		if _, err := client.CreateConnection(ctx, &credvaultv1.CreateConnectionRequest{
			TenantId: tenant, ConnectionId: id, Provider: "jumpcloud", Credentials: map[string]string{"api_key": key},
		}); err != nil {
			t.Fatalf("create %s: %v", id, err)
		}
	}
	watch := func(ctx context.Context, after string, events chan<- *credvaultv1.ConnectionEvent) chan error {
		done := make(chan error, 1)
		go func() {
			done <- client.WatchEvents(ctx, tenant, after, func(event *credvaultv1.ConnectionEvent) error {
				events <- event
				return nil
			})
		}()
		return done
	}

	// From now: create connections until the watch, once in place, sees one.
	liveCtx, stopLive := context.WithCancel(ctx)
	live := make(chan *credvaultv1.ConnectionEvent, 100)
	watch(liveCtx, "", live)
	var first *credvaultv1.ConnectionEvent
	for n := 0; first == nil; n++ {
		create(fmt.Sprintf("c%d", n))
		select {
		case first = <-live:
		case <-time.After(200 * time.Millisecond):
		}
	}
	stopLive()
	if first.GetType() != credvaultv1.ConnectionEventType_CONNECTION_EVENT_TYPE_CREATED || first.GetTenantId() != tenant {
		t.Fatalf("first event %v", first)
	}

	// After its cursor: a change made now arrives (after any later creations).
	replayed := make(chan *credvaultv1.ConnectionEvent, 100)
	watch(ctx, first.GetCursor(), replayed)
	if _, err := client.DeleteConnection(ctx, &credvaultv1.DeleteConnectionRequest{
		TenantId: tenant, ConnectionId: first.GetConnectionId(),
	}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	for event := range replayed {
		if event.GetType() == credvaultv1.ConnectionEventType_CONNECTION_EVENT_TYPE_DELETED {
			if event.GetConnectionId() != first.GetConnectionId() {
				t.Fatalf("deleted %v", event)
			}
			break
		}
	}

	err := client.WatchEvents(ctx, tenant, "djE6MDAwMDAwMDAwMDAwMDAwMDoxOjE3NjQ1MDAwMDAwMDA",
		func(*credvaultv1.ConnectionEvent) error { return nil })
	if got := credvault.Details(err).Code; got != codes.OutOfRange {
		t.Fatalf("an unknown log's cursor: %v", err)
	}
}
