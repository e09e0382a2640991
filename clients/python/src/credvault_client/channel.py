"""Opening a channel to credvault: TLS or plaintext, an optional bearer token, and gRPC's own retry
policy for the calls that are safe to repeat."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Keepalive:
    """HTTP/2 keepalive pings, sent only while a call is open (an idle client does not ping).

    A header cache's watch stream can stay quiet for hours; if its connection dies without a FIN or RST
    (a network partition, a frozen server host), nothing else would notice until TCP gives up, and the
    cache would miss every change until its entries' `cache_ttl`. With a ping after `time` seconds
    without a frame and `timeout` seconds for its answer, the stream fails with UNAVAILABLE within
    about `time + timeout` (30 s by default) and the watch reconnects and replays what it missed.
    20 s is twice the server's default `CREDVAULT_MIN_PING_INTERVAL` (it refuses pings sooner than
    that), and well under the idle timeouts of common load balancers and NAT tables; 10 s for the
    answer tolerates a loaded server while keeping detection within half a minute.
    """

    time: float = 20.0
    timeout: float = 10.0

    def options(self) -> list[tuple[str, int]]:
        return [
            ("grpc.keepalive_time_ms", int(self.time * 1000)),
            ("grpc.keepalive_timeout_ms", int(self.timeout * 1000)),
            # Recent gRPC core times a keepalive ping out by its general ping timeout (1 min by
            # default), not keepalive_timeout_ms: set both.
            ("grpc.http2.ping_timeout_ms", int(self.timeout * 1000)),
            # gRPC core stops pinging after 2 pings without data by default: a quiet watch stream has none.
            ("grpc.http2.max_pings_without_data", 0),
        ]


DEFAULT_KEEPALIVE = Keepalive()


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
    keepalive: Keepalive | None = DEFAULT_KEEPALIVE,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.Channel:
    """A channel to credvault at `target` ("host:port").

    `tls=None` (the default) is plaintext to a loopback address (`127.0.0.1`, `[::1]`, `localhost`), as
    `credvault serve` listens by default, and TLS to anything else or when `root_certificates` is given;
    `tls=True` or `False` says it outright. A `token` is sent as
    `authorization: Bearer <token>` on every call; gRPC only sends call credentials over TLS or, with
    `tls=False`, to a loopback address (local credentials), so a token never crosses a network in clear.
    `root_certificates` (PEM) replaces the system CAs for verifying the server. `keepalive` says how
    often to ping while a call is open (None: never); `options` are further gRPC channel options.
    """
    if tls is None:
        tls = root_certificates is not None or not is_loopback(target)
    channel_options = [
        ("grpc.service_config", service_config()),
        ("grpc.enable_retries", 1),
        *(keepalive.options() if keepalive is not None else []),
        *options,
    ]
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
