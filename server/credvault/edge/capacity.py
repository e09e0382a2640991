"""How much one gRPC server takes on: calls and streams at once, and how long client connections live.
A client that opens calls without end, or holds connections for ever, can't starve the rest."""

from __future__ import annotations

from credvault.config import CapacitySettings
from credvault.edge.limits import MAX_REQUEST_BYTES

MAX_AGE_GRACE = 30.0
"""Seconds calls still in progress on a connection past its maximum age get to finish."""


def server_options(capacity: CapacitySettings, reuse_port: bool) -> list[tuple[str, int]]:
    """grpc.aio server options (the call cap itself is `maximum_concurrent_rpcs`)."""
    return [
        ("grpc.so_reuseport", int(reuse_port)),
        ("grpc.max_receive_message_length", MAX_REQUEST_BYTES),
        ("grpc.max_concurrent_streams", capacity.max_streams_per_connection),
        ("grpc.max_connection_age_ms", int(capacity.connection_max_age * 1000)),
        ("grpc.max_connection_age_grace_ms", int(MAX_AGE_GRACE * 1000)),
        ("grpc.max_connection_idle_ms", int(capacity.connection_max_idle * 1000)),
    ]
