// Package credvault is a thin layer over the generated credvaultv1 client: dialing with TLS or
// plaintext and an optional bearer token, a default deadline per call, and the server's rich error
// details decoded (see Details).
package credvault

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"path"
	"time"

	credvaultv1 "github.com/credvault/credvault/clients/go/credvault/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
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
}

// Client is the generated client plus the connection it runs on.
type Client struct {
	credvaultv1.CredentialVaultClient
	conn *grpc.ClientConn
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
	return &Client{CredentialVaultClient: credvaultv1.NewCredentialVaultClient(conn), conn: conn}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

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
