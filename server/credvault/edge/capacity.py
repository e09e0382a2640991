"""How much one gRPC server takes on: calls and streams at once, and how long client connections live.
A client that opens calls without end, or holds connections for ever, can't starve the rest."""

from __future__ import annotations

from credvault.config import CapacitySettings
from credvault.edge.limits import MAX_REQUEST_BYTES

MAX_AGE_GRACE = 30.0
"""Seconds calls still in progress on a connection past its maximum age get to finish."""
KEEPALIVE_TIME = 60.0
"""Seconds without a frame from a client, while it has a call open, before the server pings it. A
watch stream from a client whose host froze or dropped off the network (no FIN, no RST) is ended,
and its slot under `max_concurrent_rpcs` and its event subscription freed, within about 80 s instead
of the 2 hours of gRPC's default."""
KEEPALIVE_TIMEOUT = 20.0
"""Seconds the server waits for the answer to its ping before it closes the connection."""
MAX_PING_STRIKES = 2
"""Pings sooner than `min_ping_interval` the server tolerates before it answers GOAWAY too_many_pings
(gRPC's default, stated so it is not changed by accident)."""


def server_options(capacity: CapacitySettings, reuse_port: bool) -> list[tuple[str, int]]:
    """grpc.aio server options (the call cap itself is `maximum_concurrent_rpcs`).

    Keepalive: the clients ping every 20 s while a call (a header cache's watch stream) is open, so a
    dead connection is noticed without waiting for TCP. gRPC core counts a ping that comes sooner than
    `min_ping_interval` after the previous one, while no data flows, as a strike and drops the
    connection at the third; the default of 10 s leaves room under the clients' 20 s and is grpc-go's
    own floor. Neither side pings a connection without calls (`keepalive_permit_without_calls` stays
    0), and `max_pings_without_data` 0 lets the server keep pinging a quiet watch stream.
    """
    return [
        ("grpc.so_reuseport", int(reuse_port)),
        ("grpc.max_receive_message_length", MAX_REQUEST_BYTES),
        ("grpc.max_concurrent_streams", capacity.max_streams_per_connection),
        ("grpc.max_connection_age_ms", int(capacity.connection_max_age * 1000)),
        ("grpc.max_connection_age_grace_ms", int(MAX_AGE_GRACE * 1000)),
        ("grpc.max_connection_idle_ms", int(capacity.connection_max_idle * 1000)),
        ("grpc.keepalive_time_ms", int(KEEPALIVE_TIME * 1000)),
        ("grpc.keepalive_timeout_ms", int(KEEPALIVE_TIMEOUT * 1000)),
        ("grpc.http2.ping_timeout_ms", int(KEEPALIVE_TIMEOUT * 1000)),  # what recent gRPC core times out by
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.http2.min_ping_interval_without_data_ms", int(capacity.min_ping_interval * 1000)),
        ("grpc.http2.max_ping_strikes", MAX_PING_STRIKES),
    ]
