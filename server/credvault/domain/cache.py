"""The in-process cache of built auth headers behind GetAuthHeaders.

Bounded in size (least recently used entries go first) and in time: an entry lives at most `ttl`
seconds, and never past the credentials' own `expires_at`. The TTL is what bounds staleness across
replicas (and across the worker processes of one server): a replica that did not make a change sees it
within `ttl`. The replica that makes a change drops the entry at once (`invalidate`), and a read that
raced with the change cannot put the old headers back: a fill is refused when its connection changed (or
the whole cache was dropped) after the read began (`reading`/`put`). Changes are counted per connection,
and only while a read of it is in flight, so news of other connections never costs a fill and the
counts stay bounded by the reads in flight.

An entry past `REFRESH_AFTER` of its TTL is reported `due` for a refresh: the service re-reads it in
the background while still serving it, so a connection in steady use is never read from Vault on a
caller's path. The staleness bound is unchanged: what is served is never older than `ttl` since it was read.

Everything runs on the event loop's thread, so no locks.

Built on cachetools' `TLRUCache` (per-entry expiry plus an LRU size bound).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cachetools import TLRUCache

from credvault.domain.model import AuthHeaders

REFRESH_AFTER = 0.8
"""The share of the TTL after which an entry in use is re-read in the background. Late, so a hot entry
costs about one Vault read per TTL; early enough that the re-read lands before the entry expires."""

Key = tuple[str, str]
"""(tenant_id, connection_id)."""

Ticket = tuple[int, int]
"""The whole cache's and the connection's change counts when a read began."""


@dataclass
class _Reads:
    """The reads of one connection in flight, and its changes since the first of them began."""

    count: int = 0
    changes: int = 0


class HeaderCache:
    """Built `AuthHeaders` by connection. `size` or `ttl` of 0 turns the cache off."""

    def __init__(self, size: int, ttl: float, clock: Callable[[], float] = time.time) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: TLRUCache[Key, tuple[AuthHeaders, float]] | None = (
            TLRUCache(maxsize=size, ttu=self._until, timer=clock) if size > 0 and ttl > 0 else None
        )
        self._clears = 0
        self._reads: dict[Key, _Reads] = {}

    def __len__(self) -> int:
        return 0 if self._entries is None else len(self._entries)

    def get(self, key: Key) -> tuple[AuthHeaders, bool] | None:
        """The cached headers and whether they are due for a refresh; None when not cached."""
        if self._entries is None:
            return None
        found = self._entries.get(key)
        if found is None:
            return None
        value, refresh_at = found
        return value, self._clock() >= refresh_at

    @contextmanager
    def reading(self, key: Key) -> Iterator[Ticket]:
        """Wraps a read from Vault; `put` needs its ticket to prove `key` did not change since."""
        reads = self._reads.setdefault(key, _Reads())
        reads.count += 1
        try:
            yield self._clears, reads.changes
        finally:
            reads.count -= 1
            if reads.count == 0:
                del self._reads[key]

    def put(self, key: Key, value: AuthHeaders, ticket: Ticket) -> None:
        """Stores `value`, read under `ticket` (inside `reading(key)`), unless `key` changed since."""
        reads = self._reads.get(key)
        if self._entries is None or reads is None or ticket != (self._clears, reads.changes):
            return
        if value.expires_at is not None and value.expires_at.timestamp() <= self._clock():
            return
        self._entries[key] = (value, self._clock() + self._ttl * REFRESH_AFTER)

    def invalidate(self, key: Key) -> None:
        """Drops the entry (and with it the last reference the cache holds to its secret)."""
        reads = self._reads.get(key)
        if reads is not None:
            reads.changes += 1
        if self._entries is not None:
            self._entries.pop(key, None)

    def forget(self, keys: Iterable[Key] | None) -> None:
        """Drops the entries of connections that changed on any replica (None: every entry), as the
        event log tells; so a replica's cache is as fresh as its event stream."""
        if keys is None:
            self._clears += 1
            if self._entries is not None:
                self._entries.clear()
            return
        for key in keys:
            self.invalidate(key)

    def _until(self, key: Key, entry: tuple[AuthHeaders, float], now: float) -> float:
        until = now + self._ttl
        expires_at = entry[0].expires_at
        if expires_at is not None:
            until = min(until, expires_at.timestamp())
        return until
