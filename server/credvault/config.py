"""Settings, read from the environment in one place. Every variable is listed in docs/configuration.md."""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from yarl import URL

from credvault.domain.errors import ConfigError


@dataclass(frozen=True)
class VaultSettings:
    """How to reach Vault. With no `addr`, `credvault serve` runs an embedded OpenBao."""

    addr: str | None = None
    """One Vault address, or every node of a cluster separated by commas (requests go to the active one)."""
    token: str | None = field(default=None, repr=False)
    role_id: str | None = None
    secret_id: str | None = field(default=None, repr=False)
    approle_mount: str = "approle"
    namespace: str | None = None
    cacert: str | None = None
    """A CA bundle to verify Vault's TLS certificate with; default: the system's."""
    mount: str = "credvault"
    """The KV v2 mount holding the connections."""
    prefix: str = "connections"
    """The folder under the mount: one entry per connection at `<prefix>/<tenant_id>/<connection_id>`."""
    create_mount: bool = True
    """Create the KV v2 mount at start-up when it is missing (needs a token allowed to)."""
    timeout: float = 5.0
    """Seconds one Vault request may take."""
    threads: int = 8
    """Threads making Vault requests (hvac is synchronous)."""

    @property
    def addresses(self) -> tuple[str, ...]:
        """The node addresses in `addr`, in the order given."""
        return tuple(a.strip().rstrip("/") for a in (self.addr or "").split(",") if a.strip())


@dataclass(frozen=True)
class SecuritySettings:
    """Who may call credvault, and over what. See docs/security.md."""

    tls_cert: Path | None = None
    """PEM certificate chain the gRPC port presents; with `tls_key`, turns on TLS."""
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    """PEM CA bundle: when set, every caller must present a client certificate it signed (mTLS)."""
    access_policy: Path | None = None
    """The JSON file naming each caller (certificate name, token hashes), its tenants and methods.
    Set: caller authentication is on. Unset: anyone who reaches the port may do anything."""
    allow_unauthenticated: bool = False
    """Lets `credvault serve` listen on a non-loopback address without an access policy."""
    healthcheck_cert: Path | None = None
    """The client certificate `credvault healthcheck` presents under mTLS; default: `tls_cert`."""
    healthcheck_key: Path | None = None
    allow_plaintext: bool = False
    """Lets tokens and credentials cross the network unencrypted (something else encrypts them): a
    non-loopback port with an access policy but no TLS, or a non-loopback `http://` VAULT_ADDR."""

    @property
    def caller_auth(self) -> bool:
        return self.access_policy is not None


@dataclass(frozen=True)
class RecheckSettings:
    """Scheduled re-checks and expiry events; see docs/events.md, "Re-checks and expiry"."""

    interval: float = 86400.0
    """Seconds between two checks of one connection; 0 turns re-checks off (expiry events go on)."""
    rate: float = 2.0
    """Scheduled checks per second per provider, across all replicas."""
    expiry_warning: float = 14 * 86400.0
    """Seconds before expires_at that the EXPIRING event is emitted."""


@dataclass(frozen=True)
class ConnectSettings:
    """The Connect page, where people connect their own accounts (docs/connect.md)."""

    listen: str | None = None
    """`host:port` of the page (HTTP, HTTPS with the gRPC port's TLS settings); None: no page."""
    url: str | None = None
    """The public base URL `connect_url` starts with (behind an ingress); None: made from `listen`."""
    allowed_origins: tuple[str, ...] = ()
    """Origins allowed as `return_url` and as the parent page of an embedded (iframe) Connect page."""


@dataclass(frozen=True)
class EventSettings:
    """The connection event log and its webhooks (see docs/events.md)."""

    retention: float = 7 * 86400.0
    """Seconds events are kept; a watcher's cursor older than that answers OUT_OF_RANGE."""
    poll: float = 0.25
    """Seconds between reads of the event log while someone watches on this replica."""
    webhook_urls: tuple[str, ...] = ()
    webhook_secret: str | None = field(default=None, repr=False)
    """A `whsec_`-prefixed base64 key the webhooks are signed with (Standard Webhooks)."""
    webhook_first_retry: float = 5.0
    """Seconds before the first retry of a failed delivery; later ones wait multiples of it."""
    webhook_retry_for: float = 86400.0
    """Seconds a delivery is retried (from its first failure) before it is given up."""


@dataclass(frozen=True)
class Settings:
    listen: str = "127.0.0.1:50051"
    vault: VaultSettings = field(default_factory=VaultSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    data_dir: Path = field(default_factory=lambda: default_data_dir(os.environ))
    """Where the embedded OpenBao keeps its storage and AppRole credentials."""
    unseal_key_file: Path | None = None
    """The embedded OpenBao's unseal key, kept apart from `data_dir`; None: `<data_dir>.unseal-key`."""
    provider_urls: Mapping[str, str] = field(default_factory=dict)
    """Base-URL templates overriding the providers' own, by provider id."""
    verify_timeout: float = 10.0
    """Seconds a provider's test call may take (less when the caller's deadline is nearer)."""
    max_verifications: int = 64
    """Provider test calls in flight at once; more wait their turn (within their deadline)."""
    log_level: str = "INFO"
    shutdown_grace: float = 10.0
    """Seconds in-flight calls get to finish on SIGTERM/SIGINT."""
    metrics_listen: str | None = None
    """`host:port` of the Prometheus metrics endpoint (HTTP, `/metrics`); None: no endpoint."""
    cache_size: int = 10_000
    """Most connections whose built auth headers are kept in memory; 0 turns the cache off."""
    cache_ttl: float = 10.0
    """Seconds built auth headers are served from memory: the staleness bound across replicas (and
    worker processes) for changes made elsewhere; 0 turns the cache off."""
    client_cache_ttl: float = 300.0
    """Seconds a caller may reuse a GetAuthHeaders answer (its `cache_ttl`; never past the credentials'
    `expires_at`); 0 tells callers not to cache."""
    workers: int = 1
    """Server processes sharing the listening port (SO_REUSEPORT), to use more than one core."""
    capacity: CapacitySettings = field(default_factory=lambda: CapacitySettings())
    recheck: RecheckSettings = field(default_factory=RecheckSettings)
    connect: ConnectSettings = field(default_factory=ConnectSettings)
    events: EventSettings = field(default_factory=lambda: EventSettings())


@dataclass(frozen=True)
class CapacitySettings:
    """What one server takes on at once, and how long a client connection may live."""

    max_concurrent_rpcs: int = 1000
    """Calls and streams in progress on one server; more are refused with RESOURCE_EXHAUSTED."""
    max_streams_per_connection: int = 100
    """HTTP/2 streams (calls) one client connection may have open at once; more wait client-side."""
    connection_max_age: float = 1800.0
    """Seconds a client connection lives before the server asks the client to reconnect (spreads
    clients over replicas; a watch stream resumes with its cursor)."""
    connection_max_idle: float = 300.0
    """Seconds a client connection with no call may stay open."""
    min_ping_interval: float = 10.0
    """Seconds a client must leave between keepalive pings while no data flows (see edge/capacity.py)."""


def default_data_dir(env: Mapping[str, str]) -> Path:
    home = env.get("HOME") or str(Path.home())
    base = env.get("XDG_DATA_HOME") or str(Path(home) / ".local" / "share")
    return Path(base) / "credvault"


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Reads the settings; raises ConfigError naming the variable that is wrong."""
    env = os.environ if env is None else env
    vault = VaultSettings(
        addr=env.get("VAULT_ADDR") or None,
        token=_secret(env, "VAULT_TOKEN"),
        role_id=env.get("VAULT_ROLE_ID") or None,
        secret_id=_secret(env, "VAULT_SECRET_ID"),
        approle_mount=env.get("CREDVAULT_VAULT_APPROLE_MOUNT", "approle"),
        namespace=env.get("VAULT_NAMESPACE") or None,
        cacert=env.get("VAULT_CACERT") or None,
        mount=env.get("CREDVAULT_VAULT_MOUNT", "credvault"),
        prefix=env.get("CREDVAULT_VAULT_PREFIX", "connections").strip("/"),
        create_mount=_bool(env, "CREDVAULT_VAULT_CREATE_MOUNT", True),
        timeout=_number(env, "CREDVAULT_VAULT_TIMEOUT", 5.0),
        threads=int(_number(env, "CREDVAULT_VAULT_THREADS", 8)),
    )
    recheck = RecheckSettings(
        interval=_number(env, "CREDVAULT_RECHECK_INTERVAL", 86400.0, minimum=0),
        rate=_number(env, "CREDVAULT_RECHECK_RATE", 2.0),
        expiry_warning=_number(env, "CREDVAULT_EXPIRY_WARNING", 14 * 86400.0, minimum=0),
    )
    if 0 < recheck.interval < 1:
        raise ConfigError("CREDVAULT_RECHECK_INTERVAL must be 0 (off) or at least 1 second")
    if vault.addr and not vault.token and not (vault.role_id and vault.secret_id):
        raise ConfigError(
            "VAULT_ADDR is set but neither VAULT_TOKEN nor VAULT_ROLE_ID + VAULT_SECRET_ID is "
            "(or VAULT_TOKEN_FILE, VAULT_SECRET_ID_FILE)"
        )
    return Settings(
        listen=env.get("CREDVAULT_LISTEN", "127.0.0.1:50051"),
        vault=vault,
        security=_security(env),
        data_dir=Path(env["CREDVAULT_DATA_DIR"]) if env.get("CREDVAULT_DATA_DIR") else default_data_dir(env),
        unseal_key_file=Path(env["CREDVAULT_UNSEAL_KEY_FILE"])
        if env.get("CREDVAULT_UNSEAL_KEY_FILE")
        else None,
        provider_urls=_provider_urls(env.get("CREDVAULT_PROVIDER_URLS", "")),
        verify_timeout=_number(env, "CREDVAULT_VERIFY_TIMEOUT", 10.0),
        max_verifications=int(_number(env, "CREDVAULT_MAX_VERIFICATIONS", 64)),
        log_level=env.get("CREDVAULT_LOG_LEVEL", "INFO").upper(),
        shutdown_grace=_number(env, "CREDVAULT_SHUTDOWN_GRACE", 10.0),
        metrics_listen=env.get("CREDVAULT_METRICS_LISTEN") or None,
        cache_size=int(_number(env, "CREDVAULT_CACHE_SIZE", 10_000, minimum=0)),
        cache_ttl=_number(env, "CREDVAULT_CACHE_TTL", 10.0, minimum=0),
        client_cache_ttl=_number(env, "CREDVAULT_CLIENT_CACHE_TTL", 300.0, minimum=0),
        workers=int(_number(env, "CREDVAULT_WORKERS", 1, minimum=1)),
        capacity=CapacitySettings(
            max_concurrent_rpcs=int(_number(env, "CREDVAULT_MAX_CONCURRENT_RPCS", 1000, minimum=1)),
            max_streams_per_connection=int(
                _number(env, "CREDVAULT_MAX_STREAMS_PER_CONNECTION", 100, minimum=1)
            ),
            connection_max_age=_number(env, "CREDVAULT_CONNECTION_MAX_AGE", 1800.0),
            connection_max_idle=_number(env, "CREDVAULT_CONNECTION_MAX_IDLE", 300.0),
            min_ping_interval=_number(env, "CREDVAULT_MIN_PING_INTERVAL", 10.0, minimum=0),
        ),
        recheck=recheck,
        connect=_connect(env),
        events=_events(env),
    )


def _connect(env: Mapping[str, str]) -> ConnectSettings:
    origins = []
    for raw in env.get("CREDVAULT_CONNECT_ALLOWED_ORIGINS", "").split(","):
        if raw.strip():
            origins.append(_origin(raw.strip(), "CREDVAULT_CONNECT_ALLOWED_ORIGINS"))
    url = env.get("CREDVAULT_CONNECT_URL", "").strip().rstrip("/") or None
    if url is not None:
        _origin(url, "CREDVAULT_CONNECT_URL", path_allowed=True)
    return ConnectSettings(
        listen=env.get("CREDVAULT_CONNECT_LISTEN") or None, url=url, allowed_origins=tuple(origins)
    )


def _origin(raw: str, name: str, path_allowed: bool = False) -> str:
    """`raw` as a normalised origin (scheme://host[:port]); ConfigError when it is not one."""
    try:
        url = URL(raw)
    except ValueError:
        url = URL()
    if url.scheme not in ("http", "https") or not url.host or url.query_string or url.fragment:
        raise ConfigError(f"{name}: {raw!r} is not an http(s) origin such as https://app.example.com")
    if not path_allowed and url.path not in ("", "/"):
        raise ConfigError(f"{name}: {raw!r} has a path; give origins only (scheme://host[:port])")
    return str(url.origin())


def _events(env: Mapping[str, str]) -> EventSettings:
    urls = tuple(u.strip() for u in env.get("CREDVAULT_WEBHOOK_URLS", "").split(",") if u.strip())
    secret = env.get("CREDVAULT_WEBHOOK_SECRET") or None
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise ConfigError("CREDVAULT_WEBHOOK_URLS must be http:// or https:// URLs, separated by commas")
    if urls and secret is None:
        raise ConfigError("CREDVAULT_WEBHOOK_URLS needs CREDVAULT_WEBHOOK_SECRET (whsec_ and base64)")
    if secret is not None and not _webhook_secret_ok(secret):
        raise ConfigError(
            "CREDVAULT_WEBHOOK_SECRET must be whsec_ followed by a base64 key of 24 to 64 bytes"
        )
    return EventSettings(
        retention=_number(env, "CREDVAULT_EVENT_RETENTION", 7 * 86400.0),
        poll=_number(env, "CREDVAULT_EVENT_POLL_INTERVAL", 0.25),
        webhook_urls=urls,
        webhook_secret=secret,
        webhook_first_retry=_number(env, "CREDVAULT_WEBHOOK_FIRST_RETRY", 5.0),
        webhook_retry_for=_number(env, "CREDVAULT_WEBHOOK_RETRY_FOR", 86400.0),
    )


def _webhook_secret_ok(secret: str) -> bool:
    if not secret.startswith("whsec_"):
        return False
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        return False
    return 24 <= len(key) <= 64


def _security(env: Mapping[str, str]) -> SecuritySettings:
    def path(name: str) -> Path | None:
        return Path(env[name]) if env.get(name) else None

    security = SecuritySettings(
        tls_cert=path("CREDVAULT_TLS_CERT"),
        tls_key=path("CREDVAULT_TLS_KEY"),
        tls_client_ca=path("CREDVAULT_TLS_CLIENT_CA"),
        access_policy=path("CREDVAULT_ACCESS_POLICY"),
        allow_unauthenticated=_bool(env, "CREDVAULT_ALLOW_UNAUTHENTICATED", False),
        allow_plaintext=_bool(env, "CREDVAULT_ALLOW_PLAINTEXT", False),
        healthcheck_cert=path("CREDVAULT_HEALTHCHECK_CERT"),
        healthcheck_key=path("CREDVAULT_HEALTHCHECK_KEY"),
    )
    if (security.tls_cert is None) != (security.tls_key is None):
        raise ConfigError("CREDVAULT_TLS_CERT and CREDVAULT_TLS_KEY must be set together")
    if (security.healthcheck_cert is None) != (security.healthcheck_key is None):
        raise ConfigError("CREDVAULT_HEALTHCHECK_CERT and CREDVAULT_HEALTHCHECK_KEY must be set together")
    if security.tls_client_ca and not security.tls_cert:
        raise ConfigError("CREDVAULT_TLS_CLIENT_CA (mTLS) needs CREDVAULT_TLS_CERT and CREDVAULT_TLS_KEY")
    if security.tls_client_ca and not security.access_policy:
        raise ConfigError(
            "CREDVAULT_TLS_CLIENT_CA identifies callers; set CREDVAULT_ACCESS_POLICY to say what each may do"
        )
    return security


def _provider_urls(raw: str) -> dict[str, str]:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"CREDVAULT_PROVIDER_URLS is not valid JSON: {exc}") from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ConfigError(
            'CREDVAULT_PROVIDER_URLS must be a JSON object {"provider_id": "base URL template"}'
        )
    return value


def _secret(env: Mapping[str, str], name: str) -> str | None:
    """A secret from the variable, or from the file `<name>_FILE` names (the Kubernetes way, so that
    it need not sit in the environment); both set is a mistake."""
    file = env.get(f"{name}_FILE")
    if not file:
        return env.get(name) or None
    if env.get(name):
        raise ConfigError(f"set {name} or {name}_FILE, not both")
    try:
        value = Path(file).read_text().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}_FILE ({file}) cannot be read: {getattr(exc, 'strerror', exc)}") from None
    if not value:
        raise ConfigError(f"{name}_FILE ({file}) is empty")
    return value


def _number(env: Mapping[str, str], name: str, default: float, minimum: float | None = None) -> float:
    """A number above 0, or at least `minimum` when given."""
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if minimum is None and value <= 0:
        raise ConfigError(f"{name} must be greater than 0")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum:g}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")
