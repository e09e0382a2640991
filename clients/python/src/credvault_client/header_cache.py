"""`AuthHeaderCache`: GetAuthHeaders answers kept in the caller's memory (opt in with
`Client.connect(..., cache_auth_headers=True)`).

An answer is reused while it is younger than the `cache_ttl` the server gave it, and never longer; an
answer with no `cache_ttl` (0) and a failed call are not kept. Within that time a change reaches the
cache sooner: for every tenant it holds entries of, the cache follows the tenant's WatchConnectionEvents
stream (`TenantWatch`) and drops a connection's entry on any event for it. When the stream cannot be
held (the caller may not watch, the server is away) entries simply live out their `cache_ttl`.

Concurrent misses for one connection make one call; each of the others waits for its answer until its
own deadline (then `DeadlineExceededError`), so no caller waits past the `timeout` it gave. A fetch that
raced with an event for its tenant is answered but not kept, so an event can never be undone by an
answer read before it. Size is bounded: least recently used entries go first.

Built on cachetools' `TLRUCache` (per-entry expiry plus an LRU bound); one lock guards it. The returned
messages are shared between callers: read them, never modify them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

import grpc
from cachetools import TLRUCache

from credvault_client.errors import DeadlineExceededError
from credvault_client.event_watch import TenantWatch
from credvault_client.v1 import credvault_pb2 as pb
from credvault_client.v1 import credvault_pb2_grpc

Key = tuple[str, str]
"""(tenant_id, connection_id)."""
Fetch = Callable[[str, str, float], pb.GetAuthHeadersResponse]

DEFAULT_SIZE = 10_000
"""Most connections kept."""
WATCH_WAIT = 1.0
"""Seconds a tenant's first miss waits for its event stream to open before it fetches (so no change
falls between the answer and the stream); past that it fetches anyway and the stream catches up."""
PRUNE_EVERY = 10.0
"""Seconds between looks for tenants with no entries left, whose streams are then closed."""


class AuthHeaderCache:
    def __init__(
        self,
        stub: credvault_pb2_grpc.CredentialVaultStub,
        fetch: Fetch,
        *,
        size: int = DEFAULT_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stub = stub
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: TLRUCache[Key, tuple[pb.GetAuthHeadersResponse, float]] = TLRUCache(
            maxsize=size, ttu=_until, timer=clock
        )
        self._flights: dict[Key, Future[pb.GetAuthHeadersResponse]] = {}
        self._tickets: dict[str, int] = {}
        self._watches: dict[str, TenantWatch] = {}
        self._pruned_at = clock()
        self._closed = False

    def get(self, tenant_id: str, connection_id: str, timeout: float) -> pb.GetAuthHeadersResponse:
        """The answer within `timeout` seconds, however long another caller's call for it may take."""
        end = time.monotonic() + timeout
        key = (tenant_id, connection_id)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                return entry[0]
            flight = self._flights.get(key)
            if flight is None:
                flight = self._flights[key] = Future()
                leading = True
            else:
                leading = False
        if not leading:
            try:
                return flight.result(_left(end))
            except TimeoutError:
                raise DeadlineExceededError(
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                    "no answer within the deadline (waiting for another caller's call for this connection)",
                ) from None
        try:
            response = self._miss(tenant_id, connection_id, end)
        except BaseException as error:
            with self._lock:
                self._flights.pop(key, None)
            flight.set_exception(error)
            raise
        flight.set_result(response)
        return response

    def drop(self, tenant_id: str, connection_id: str) -> None:
        """Forgets one connection's entry (and any answer in flight for its tenant)."""
        with self._lock:
            self._tickets[tenant_id] = self._tickets.get(tenant_id, 0) + 1
            self._entries.pop((tenant_id, connection_id), None)

    def drop_tenant(self, tenant_id: str) -> None:
        with self._lock:
            self._tickets[tenant_id] = self._tickets.get(tenant_id, 0) + 1
            for key in [key for key in self._entries if key[0] == tenant_id]:
                self._entries.pop(key, None)

    def watching(self, tenant_id: str) -> bool:
        """Whether the tenant's event stream is open right now."""
        with self._lock:
            watch = self._watches.get(tenant_id)
        return watch is not None and watch.live

    def __len__(self) -> int:
        with self._lock:
            self._entries.expire()
            return len(self._entries)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            watches = list(self._watches.values())
            self._watches.clear()
            self._entries.clear()
        for watch in watches:
            watch.stop()
        for watch in watches:
            watch.join(timeout=5)

    def _miss(self, tenant_id: str, connection_id: str, end: float) -> pb.GetAuthHeadersResponse:
        self._watch(tenant_id).settled.wait(min(WATCH_WAIT, _left(end)))
        with self._lock:
            ticket = self._tickets.get(tenant_id, 0)
        response = self._fetch(tenant_id, connection_id, _left(end))
        ttl = response.cache_ttl.ToTimedelta().total_seconds()
        with self._lock:
            del self._flights[(tenant_id, connection_id)]
            if ttl > 0 and not self._closed and self._tickets.get(tenant_id, 0) == ticket:
                self._entries[(tenant_id, connection_id)] = (response, ttl)
        self._prune()
        return response

    def _watch(self, tenant_id: str) -> TenantWatch:
        with self._lock:
            watch = self._watches.get(tenant_id)
            if watch is None and not self._closed:
                watch = self._watches[tenant_id] = TenantWatch(
                    self._stub,
                    tenant_id,
                    on_event=lambda event: self.drop(event.tenant_id, event.connection_id),
                    on_gap=lambda: self.drop_tenant(tenant_id),
                ).start()
        if watch is None:
            raise RuntimeError("the client is closed")
        return watch

    def _prune(self) -> None:
        """Closes the streams of tenants with no entries left (a miss is the only time this runs)."""
        now = self._clock()
        with self._lock:
            if now - self._pruned_at < PRUNE_EVERY:
                return
            self._pruned_at = now
            self._entries.expire()
            held = {tenant for tenant, _ in self._entries} | {tenant for tenant, _ in self._flights}
            idle = [watch for tenant, watch in self._watches.items() if tenant not in held]
            for watch in idle:
                del self._watches[watch.tenant_id]
        for watch in idle:
            watch.stop()


def _left(end: float) -> float:
    """Seconds until `end` (a `time.monotonic()` reading), never below 0."""
    return max(0.0, end - time.monotonic())


def _until(_key: Key, entry: tuple[pb.GetAuthHeadersResponse, float], now: float) -> float:
    return now + entry[1]
