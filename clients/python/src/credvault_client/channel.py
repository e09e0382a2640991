"""Opening a channel to credvault: TLS or plaintext, an optional bearer token, and gRPC's own retry
policy for the calls that are safe to repeat."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from typing import Any

import grpc

SERVICE = "credvault.v1.CredentialVault"

RETRIED_METHODS = ("GetConnection", "ListConnections", "GetAuthHeaders", "ListProviders")
"""Read-only calls, retried on UNAVAILABLE. Never CreateConnection or UpdateConnection (a lost answer
does not mean nothing changed), nor DeleteConnection (a repeat after a lost answer says NOT_FOUND).
VerifyConnection is left out too: each attempt is a call to a third-party API that may itself be the
thing that is unavailable, so the caller decides when to check again."""

RETRY_POLICY = {
    "maxAttempts": 4,
    "initialBackoff": "0.1s",
    "maxBackoff": "2s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}


def service_config() -> str:
    """The channel's service config (gRPC's retry machinery, so backoff, jitter and retry throttling are
    gRPC's own rather than a loop here)."""
    names = [{"service": SERVICE, "method": method} for method in RETRIED_METHODS]
    return json.dumps({"methodConfig": [{"name": names, "retryPolicy": RETRY_POLICY}]})


def open_channel(
    target: str,
    *,
    tls: bool | None = None,
    root_certificates: bytes | None = None,
    token: str | None = None,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.Channel:
    """A channel to credvault at `target` ("host:port").

    `tls=None` (the default) is plaintext to a loopback address (`127.0.0.1`, `[::1]`, `localhost`), as
    `credvault serve` listens by default, and TLS to anything else or when `root_certificates` is given;
    `tls=True` or `False` says it outright. A `token` is sent as
    `authorization: Bearer <token>` on every call; gRPC only sends call credentials over TLS or, with
    `tls=False`, to a loopback address (local credentials), so a token never crosses a network in clear.
    `root_certificates` (PEM) replaces the system CAs for verifying the server.
    """
    if tls is None:
        tls = root_certificates is not None or not is_loopback(target)
    channel_options = [("grpc.service_config", service_config()), ("grpc.enable_retries", 1), *options]
    if not tls and token is None:
        return grpc.insecure_channel(target, options=channel_options)
    transport = (
        grpc.ssl_channel_credentials(root_certificates)
        if tls
        else grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)
    )
    if token is not None:
        transport = grpc.composite_channel_credentials(transport, grpc.access_token_call_credentials(token))
    return grpc.secure_channel(target, transport, options=channel_options)


def is_loopback(target: str) -> bool:
    """Whether a "host:port" target names this machine by a loopback address or `localhost`."""
    host = target.rpartition(":")[0].strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
