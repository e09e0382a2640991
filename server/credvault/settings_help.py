"""The settings as `credvault serve --help` lists them: every variable `config.from_env` reads, its
default and a line on what it does (docs/configuration.md says more)."""

from __future__ import annotations

SETTINGS: tuple[tuple[str, str, str], ...] = (
    ("CREDVAULT_LISTEN", "127.0.0.1:50051", "gRPC address, host:port (port 0 picks a free one)"),
    (
        "VAULT_ADDR",
        "unset: an embedded OpenBao",
        "Vault/OpenBao URL, or every node of a cluster, comma-separated",
    ),
    ("VAULT_TOKEN", "unset", "token auth to Vault"),
    ("VAULT_ROLE_ID", "unset", "AppRole auth (preferred), with VAULT_SECRET_ID"),
    ("VAULT_SECRET_ID", "unset", "AppRole auth, with VAULT_ROLE_ID"),
    ("VAULT_TOKEN_FILE", "unset", "read VAULT_TOKEN from this file instead"),
    ("VAULT_SECRET_ID_FILE", "unset", "read VAULT_SECRET_ID from this file instead"),
    ("CREDVAULT_VAULT_APPROLE_MOUNT", "approle", "where AppRole is mounted"),
    ("VAULT_NAMESPACE", "unset", "Vault Enterprise / OpenBao namespace"),
    ("VAULT_CACERT", "the system's CAs", "CA bundle for Vault's TLS certificate"),
    ("CREDVAULT_VAULT_MOUNT", "credvault", "KV v2 mount holding the connections"),
    ("CREDVAULT_VAULT_PREFIX", "connections", "folder in the mount: <prefix>/<tenant_id>/<connection_id>"),
    ("CREDVAULT_VAULT_CREATE_MOUNT", "true", "create the KV v2 mount at start when it is missing"),
    ("CREDVAULT_VAULT_TIMEOUT", "5", "seconds one Vault request may take"),
    ("CREDVAULT_VAULT_THREADS", "8", "threads making Vault requests"),
    ("CREDVAULT_DATA_DIR", "$XDG_DATA_HOME/credvault", "the embedded OpenBao's storage and keys"),
    ("CREDVAULT_UNSEAL_KEY_FILE", "<CREDVAULT_DATA_DIR>.unseal-key", "the embedded OpenBao's unseal key"),
    (
        "CREDVAULT_PROVIDER_URLS",
        "{}",
        'JSON {"provider_id": "base URL template"} overriding providers\' URLs',
    ),
    ("CREDVAULT_VERIFY_TIMEOUT", "10", "seconds a provider's test call may take"),
    ("CREDVAULT_MAX_VERIFICATIONS", "64", "provider test calls in flight at once per server"),
    ("CREDVAULT_LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR (JSON lines on stderr)"),
    ("CREDVAULT_METRICS_LISTEN", "unset: no endpoint", "host:port serving Prometheus metrics at /metrics"),
    ("CREDVAULT_SHUTDOWN_GRACE", "10", "seconds in-flight calls get to finish on SIGTERM/SIGINT"),
    ("CREDVAULT_TLS_CERT", "unset", "PEM certificate chain for the gRPC port (TLS, with CREDVAULT_TLS_KEY)"),
    ("CREDVAULT_TLS_KEY", "unset", "PEM key for the gRPC port"),
    ("CREDVAULT_TLS_CLIENT_CA", "unset", "PEM CA bundle every caller's certificate must chain to (mTLS)"),
    ("CREDVAULT_ACCESS_POLICY", "unset: no caller auth", "JSON file of callers, their tenants and methods"),
    ("CREDVAULT_ALLOW_UNAUTHENTICATED", "false", "listen beyond loopback without an access policy"),
    ("CREDVAULT_ALLOW_PLAINTEXT", "false", "let tokens and credentials cross the network unencrypted"),
    (
        "CREDVAULT_HEALTHCHECK_CERT",
        "the server's",
        "client certificate `credvault healthcheck` presents (mTLS)",
    ),
    ("CREDVAULT_HEALTHCHECK_KEY", "the server's", "its key"),
    ("CREDVAULT_CACHE_SIZE", "10000", "connections whose auth headers are kept in memory; 0: no cache"),
    ("CREDVAULT_CACHE_TTL", "10", "seconds auth headers are served from memory; 0: no cache"),
    (
        "CREDVAULT_CLIENT_CACHE_TTL",
        "300",
        "seconds callers may reuse a GetAuthHeaders answer; 0: do not cache",
    ),
    ("CREDVAULT_WORKERS", "1", "server processes sharing the port, to use more cores"),
    ("CREDVAULT_MAX_CONCURRENT_RPCS", "1000", "calls and streams at once per server process"),
    ("CREDVAULT_MAX_STREAMS_PER_CONNECTION", "100", "calls at once on one client connection"),
    ("CREDVAULT_CONNECTION_MAX_AGE", "1800", "seconds a client connection lives before it must reconnect"),
    ("CREDVAULT_CONNECTION_MAX_IDLE", "300", "seconds a client connection without calls stays open"),
    ("CREDVAULT_MIN_PING_INTERVAL", "10", "fewest seconds between a client's keepalive pings"),
    ("CREDVAULT_CONNECT_LISTEN", "unset: no Connect page", "host:port of the Connect page"),
    ("CREDVAULT_CONNECT_URL", "http(s)://<listen host>:<port>", "public base URL of the Connect page"),
    ("CREDVAULT_CONNECT_ALLOWED_ORIGINS", "empty", "origins allowed as return_url and to embed the page"),
    ("CREDVAULT_EVENT_RETENTION", "604800", "seconds connection events are kept for replay"),
    ("CREDVAULT_EVENT_POLL_INTERVAL", "0.25", "seconds between reads of the event log while someone watches"),
    ("CREDVAULT_WEBHOOK_URLS", "unset: no webhooks", "comma-separated URLs connection events are posted to"),
    ("CREDVAULT_WEBHOOK_SECRET", "unset", "whsec_ signing key for the webhooks (Standard Webhooks)"),
    ("CREDVAULT_WEBHOOK_FIRST_RETRY", "5", "seconds before a failed webhook is first retried"),
    ("CREDVAULT_WEBHOOK_RETRY_FOR", "86400", "seconds a webhook is retried before it is given up"),
    ("CREDVAULT_RECHECK_INTERVAL", "86400", "seconds between two checks of a connection; 0: no re-checks"),
    ("CREDVAULT_RECHECK_RATE", "2", "scheduled checks per second per provider, across replicas"),
    ("CREDVAULT_EXPIRY_WARNING", "1209600", "seconds before expires_at that EXPIRING is announced"),
)


def settings_help() -> str:
    """The settings as plain text for `--help`: each variable with its default, then what it does."""
    lines = ["settings (environment variables; docs/configuration.md has the details):"]
    for name, default, meaning in SETTINGS:
        lines += [f"  {name} = {default}", f"      {meaning}"]
    return "\n".join(lines)
