// Package credvault is a thin layer over the generated credvaultv1 client: dialing with TLS or
// plaintext and an optional bearer token, a default deadline per call, and the server's rich error
// details decoded (see Details).
package credvault

import (
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"net"
	"path"
	"time"

	credvaultv1 "github.com/credvault/credvault/clients/go/credvault/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
)

// DefaultTimeouts is how long each call may take when its context has no deadline. Calls that check
// the credentials with the provider get longer: the server gives the provider up to 10 s plus Vault time.
var DefaultTimeouts = map[string]time.Duration{
	"CreateConnection": 30 * time.Second,
	"UpdateConnection": 30 * time.Second,
	"VerifyConnection": 30 * time.Second,
	"DeleteConnection": 10 * time.Second,
	"GetConnection":    5 * time.Second,
	"ListConnections":  10 * time.Second,
	"GetAuthHeaders":   5 * time.Second,
	"ListProviders":    5 * time.Second,
	// CreateConnectSession and GetConnectSession (Connect links) are the generated calls, with these
	// deadlines; neither is retried.
	"CreateConnectSession": 10 * time.Second,
	"GetConnectSession":    5 * time.Second,
}

// serviceConfig retries the read-only calls on UNAVAILABLE; never Create/Update (a lost answer does not
// mean nothing changed), Delete (a repeat says NOT_FOUND) or Verify (each attempt calls the provider).
// grpc-go applies it from 1.40 on; older versions need GRPC_GO_RETRY=on.
const serviceConfig = `{"methodConfig": [{
  "name": [
    {"service": "credvault.v1.CredentialVault", "method": "GetConnection"},
    {"service": "credvault.v1.CredentialVault", "method": "ListConnections"},
    {"service": "credvault.v1.CredentialVault", "method": "GetAuthHeaders"},
    {"service": "credvault.v1.CredentialVault", "method": "ListProviders"}
  ],
  "retryPolicy": {"maxAttempts": 4, "initialBackoff": "0.1s", "maxBackoff": "2s",
                  "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}
}]}`

// DefaultKeepaliveTime and DefaultKeepaliveTimeout are the HTTP/2 keepalive pings a client sends while
// a call is open (an idle client does not ping). A header cache's watch stream may stay quiet for hours;
// if its connection dies without a FIN or RST (a partition, a frozen server host) nothing else notices,
// and the cache would miss changes until its entries' cache_ttl. A ping after 20 s without a frame,
// answered within 10 s, makes the stream fail with UNAVAILABLE within about 30 s, and the watch
// reconnects and replays what it missed. 20 s is twice the server's default CREDVAULT_MIN_PING_INTERVAL
// (it refuses pings sooner than that; 10 s is also grpc-go's own floor) and under common load
// balancers' idle timeouts; 10 s for the answer tolerates a loaded server.
const (
	DefaultKeepaliveTime    = 20 * time.Second
	DefaultKeepaliveTimeout = 10 * time.Second
)

// Options says how to reach credvault.
type Options struct {
	// Insecure is plaintext, for loopback and development.
	Insecure bool
	// TLS configures the TLS connection (nil: the system's CAs).
	TLS *tls.Config
	// Token is sent as "authorization: Bearer <token>": over TLS, or in plaintext to a loopback
	// address only, so it never crosses a network in clear.
	Token string
	// Timeouts override DefaultTimeouts per method name.
	Timeouts map[string]time.Duration
	// KeepaliveTime is how long a connection with a call open may be quiet before the client pings
	// (0: DefaultKeepaliveTime; negative: never ping). grpc-go raises anything under 10 s to 10 s.
	KeepaliveTime time.Duration
	// KeepaliveTimeout is how long a ping may go unanswered before the connection is closed
	// (0: DefaultKeepaliveTimeout).
	KeepaliveTimeout time.Duration
	// CacheAuthHeaders keeps GetAuthHeaders answers in memory for their cache_ttl, dropped at once
	// when the connection changes (the cache follows each tenant's WatchConnectionEvents). Close the
	// client to end its streams.
	CacheAuthHeaders bool
	// CacheSize is the most connections the cache keeps (0: DefaultCacheSize).
	CacheSize int
	// Logger is where the cache says it cannot watch a tenant's events (nil: log.Default()).
	Logger *log.Logger
}

// Client is the generated client plus the connection it runs on (and the header cache, when on).
type Client struct {
	credvaultv1.CredentialVaultClient
	conn  *grpc.ClientConn
	cache *headerCache
}

// Dial connects to credvault at target ("host:port").
func Dial(ctx context.Context, target string, options Options) (*Client, error) {
	timeouts := map[string]time.Duration{}
	for method, timeout := range DefaultTimeouts {
		timeouts[method] = timeout
	}
	for method, timeout := range options.Timeouts {
		timeouts[method] = timeout
	}
	dial := []grpc.DialOption{
		grpc.WithDefaultServiceConfig(serviceConfig),
		grpc.WithUnaryInterceptor(defaultDeadline(timeouts)),
	}
	if params, ok := keepaliveParams(options); ok {
		dial = append(dial, grpc.WithKeepaliveParams(params))
	}
	if options.Insecure {
		dial = append(dial, grpc.WithInsecure())
	} else {
		dial = append(dial, grpc.WithTransportCredentials(credentials.NewTLS(options.TLS)))
	}
	if options.Token != "" {
		if options.Insecure && !isLoopback(target) {
			return nil, fmt.Errorf("credvault: a token over plaintext is only sent to a loopback address, not %s", target)
		}
		dial = append(dial, grpc.WithPerRPCCredentials(bearer{token: options.Token, secure: !options.Insecure}))
	}
	conn, err := grpc.DialContext(ctx, target, dial...)
	if err != nil {
		return nil, err
	}
	client := &Client{CredentialVaultClient: credvaultv1.NewCredentialVaultClient(conn), conn: conn}
	if options.CacheAuthHeaders {
		client.cache = newHeaderCache(client.CredentialVaultClient, options.CacheSize, timeouts["GetAuthHeaders"],
			options.Logger)
	}
	return client, nil
}

// keepaliveParams are the pings options ask for, and whether to ping at all.
func keepaliveParams(options Options) (keepalive.ClientParameters, bool) {
	params := keepalive.ClientParameters{Time: options.KeepaliveTime, Timeout: options.KeepaliveTimeout}
	if params.Time < 0 {
		return params, false
	}
	if params.Time == 0 {
		params.Time = DefaultKeepaliveTime
	}
	if params.Timeout == 0 {
		params.Timeout = DefaultKeepaliveTimeout
	}
	return params, true // PermitWithoutStream stays false: no pings without a call open
}

// Close ends the cache's streams and closes the connection.
func (c *Client) Close() error {
	if c.cache != nil {
		c.cache.close()
	}
	return c.conn.Close()
}

// GetAuthHeaders returns the headers (secret: never log them) and base URL to call the provider with.
// With the cache on, the answer may be shared with other callers: read it, never modify it; callers
// waiting for the same connection share the first one's call (and its outcome, bounded by its
// deadline); each returns when its own ctx is done, and one caller's cancel ends nobody else's wait.
func (c *Client) GetAuthHeaders(ctx context.Context, in *credvaultv1.GetAuthHeadersRequest,
	opts ...grpc.CallOption) (*credvaultv1.GetAuthHeadersResponse, error) {
	if c.cache == nil {
		return c.CredentialVaultClient.GetAuthHeaders(ctx, in, opts...)
	}
	return c.cache.get(ctx, in, opts...)
}

// UpdateConnection is the generated call; with the cache on, this client's own change shows in it at
// once, before its event arrives. So do DeleteConnection and VerifyConnection.
func (c *Client) UpdateConnection(ctx context.Context, in *credvaultv1.UpdateConnectionRequest,
	opts ...grpc.CallOption) (*credvaultv1.Connection, error) {
	defer c.forget(in.GetTenantId(), in.GetConnectionId())
	return c.CredentialVaultClient.UpdateConnection(ctx, in, opts...)
}

// DeleteConnection is the generated call (see UpdateConnection).
func (c *Client) DeleteConnection(ctx context.Context, in *credvaultv1.DeleteConnectionRequest,
	opts ...grpc.CallOption) (*credvaultv1.DeleteConnectionResponse, error) {
	defer c.forget(in.GetTenantId(), in.GetConnectionId())
	return c.CredentialVaultClient.DeleteConnection(ctx, in, opts...)
}

// VerifyConnection is the generated call (see UpdateConnection).
func (c *Client) VerifyConnection(ctx context.Context, in *credvaultv1.VerifyConnectionRequest,
	opts ...grpc.CallOption) (*credvaultv1.VerifyConnectionResponse, error) {
	defer c.forget(in.GetTenantId(), in.GetConnectionId())
	return c.CredentialVaultClient.VerifyConnection(ctx, in, opts...)
}

// WatchEvents calls handle with each of the tenant's connection events after the cursor after (""
// from now), in order, as they happen. It returns when ctx ends, when handle returns an error (that
// error), or when the stream fails: codes.OutOfRange means the cursor is older than the events the
// server keeps (list the connections again and watch from now); see Details. Pass an event's Cursor as
// after to resume after it.
func (c *Client) WatchEvents(ctx context.Context, tenantID, after string,
	handle func(*credvaultv1.ConnectionEvent) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.CredentialVaultClient.WatchConnectionEvents(ctx,
		&credvaultv1.WatchConnectionEventsRequest{TenantId: tenantID, After: after})
	if err != nil {
		return err
	}
	for {
		event, err := stream.Recv()
		if err != nil {
			return err
		}
		if err := handle(event); err != nil {
			return err
		}
	}
}

func (c *Client) forget(tenant, connection string) {
	if c.cache != nil {
		c.cache.drop(tenant, connection)
	}
}

func defaultDeadline(timeouts map[string]time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply interface{}, cc *grpc.ClientConn,
		invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := ctx.Deadline(); !ok {
			if timeout, known := timeouts[path.Base(method)]; known {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

type bearer struct {
	token  string
	secure bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

func (b bearer) RequireTransportSecurity() bool { return b.secure }

func isLoopback(target string) bool {
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}
