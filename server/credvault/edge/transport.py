"""How the gRPC port is exposed: TLS/mTLS credentials, and the rule that a port reachable from other
machines needs caller authentication unless the operator explicitly says otherwise."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

import grpc

from credvault.config import SecuritySettings, Settings
from credvault.domain.errors import ConfigError
from credvault.hostport import parse_host_port

LOCAL_NAMES = frozenset({"localhost", "ip6-localhost"})


def server_credentials(security: SecuritySettings) -> grpc.ServerCredentials | None:
    """TLS credentials for the port, requiring client certificates when a client CA is set; None for
    plaintext."""
    if security.tls_cert is None or security.tls_key is None:
        return None
    client_ca = _read(security.tls_client_ca, "CREDVAULT_TLS_CLIENT_CA") if security.tls_client_ca else None
    return grpc.ssl_server_credentials(
        [(_read(security.tls_key, "CREDVAULT_TLS_KEY"), _read(security.tls_cert, "CREDVAULT_TLS_CERT"))],
        root_certificates=client_ca,
        require_client_auth=client_ca is not None,
    )


def is_loopback(listen: str) -> bool:
    """True when `listen` (host:port, [v6]:port or unix:path) is reachable from this machine only."""
    if listen.startswith(("unix:", "unix-abstract:")):
        return True
    try:
        return is_loopback_host(parse_host_port(listen).host)
    except ValueError:
        return False


def is_loopback_host(host: str) -> bool:
    """True when `host` (a name or a bare IP address) is this machine."""
    if host.lower() in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name, or "" (every address)


def check_exposure(settings: Settings) -> str | None:
    """Raises ConfigError when the port would be open to other machines without caller authentication,
    or secrets would cross the network unencrypted, and the operator has not allowed that; returns the
    warning to give loudly when it runs without caller authentication; None when all is well."""
    security = settings.security
    _check_vault_transport(settings)
    if security.caller_auth:
        if security.tls_cert is None and not is_loopback(settings.listen):
            if security.allow_plaintext:
                return None
            raise ConfigError(
                f"refusing to serve on {settings.listen} without TLS: tokens and the credentials "
                "GetAuthHeaders returns would cross the network in clear text. Set CREDVAULT_TLS_CERT and "
                "CREDVAULT_TLS_KEY, or CREDVAULT_ALLOW_PLAINTEXT=true if something else (a mesh) encrypts "
                "the traffic"
            )
        return None
    if not is_loopback(settings.listen) and not security.allow_unauthenticated:
        raise ConfigError(
            f"refusing to listen on {settings.listen} without caller authentication: anyone reaching it "
            "could read every stored credential. Set CREDVAULT_ACCESS_POLICY (see docs/security.md), "
            "listen on 127.0.0.1, or set CREDVAULT_ALLOW_UNAUTHENTICATED=true if something in "
            "front of credvault authenticates callers"
        )
    return (
        f"caller authentication is OFF: any process that can reach {settings.listen} may read every "
        "stored credential (set CREDVAULT_ACCESS_POLICY to turn it on)"
    )


def _check_vault_transport(settings: Settings) -> None:
    """Vault answers with every credential: a plain-HTTP Vault beyond this machine needs the operator's
    word that something else encrypts the way."""
    if settings.security.allow_plaintext:
        return
    for address in settings.vault.addresses:
        parts = urlsplit(address)
        if parts.scheme == "http" and not is_loopback_host(parts.hostname or ""):
            raise ConfigError(
                f"refusing to reach Vault over plain HTTP at {parts.hostname} (VAULT_ADDR): every "
                "credential would cross the network in clear text. Use https://, or set "
                "CREDVAULT_ALLOW_PLAINTEXT=true if something else encrypts the traffic"
            )


def _read(path: Path, variable: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{variable} ({path}) cannot be read: {exc.strerror}") from None
