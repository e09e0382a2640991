"""The header cache's bounds and its background refresh, on a clock the test moves (no waiting, no
wall clock)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from credvault.domain.cache import HeaderCache, Key
from credvault.domain.model import AuthHeaders
from credvault.domain.refresh import HeaderRefresh

START = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def headers(key: str = "k", expires_at: float | None = None) -> AuthHeaders:
    expiry = None if expires_at is None else datetime.fromtimestamp(expires_at, UTC)
    return AuthHeaders({"x-api-key": key}, "https://example.test", expiry)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def put(cache: HeaderCache, key: tuple[str, str], value: AuthHeaders) -> None:
    with cache.reading(key) as ticket:
        cache.put(key, value, ticket)


def test_entry_lives_at_most_ttl(clock):
    cache = HeaderCache(size=10, ttl=10, clock=clock)
    put(cache, ("t", "c"), headers())
    clock.now = START + 9.9
    assert cache.get(("t", "c")) is not None
    clock.now = START + 10
    assert cache.get(("t", "c")) is None


def test_entry_never_outlives_the_credentials(clock):
    cache = HeaderCache(size=10, ttl=3600, clock=clock)
    put(cache, ("t", "c"), headers(expires_at=START + 3))
    clock.now = START + 2.9
    assert cache.get(("t", "c")) is not None
    clock.now = START + 3
    assert cache.get(("t", "c")) is None


def test_entry_is_due_for_refresh_late_in_its_ttl(clock):
    cache = HeaderCache(size=10, ttl=10, clock=clock)
    put(cache, ("t", "c"), headers("old"))
    clock.now = START + 7.9
    assert cache.get(("t", "c")) == (headers("old"), False)
    clock.now = START + 8
    assert cache.get(("t", "c")) == (headers("old"), True)
    put(cache, ("t", "c"), headers("new"))  # the background re-read, at START + 8
    clock.now = START + 15.9
    assert cache.get(("t", "c")) == (headers("new"), False)
    clock.now = START + 16
    assert cache.get(("t", "c")) == (headers("new"), True)


def test_expired_credentials_are_not_cached(clock):
    cache = HeaderCache(size=10, ttl=60, clock=clock)
    put(cache, ("t", "c"), headers(expires_at=START - 1))
    assert len(cache) == 0


def test_size_bound_drops_least_recently_used(clock):
    cache = HeaderCache(size=2, ttl=60, clock=clock)
    put(cache, ("t", "a"), headers("a"))
    put(cache, ("t", "b"), headers("b"))
    assert cache.get(("t", "a")) is not None
    put(cache, ("t", "c"), headers("c"))
    assert len(cache) == 2
    assert cache.get(("t", "b")) is None
    assert cache.get(("t", "a")) is not None and cache.get(("t", "c")) is not None


def test_invalidate_drops_the_entry(clock):
    cache = HeaderCache(size=10, ttl=60, clock=clock)
    put(cache, ("t", "c"), headers())
    cache.invalidate(("t", "c"))
    assert cache.get(("t", "c")) is None and len(cache) == 0


def test_read_that_raced_a_change_is_not_cached(clock):
    """A Vault read that began before a delete/update finished must not put the old headers back."""
    cache = HeaderCache(size=10, ttl=60, clock=clock)
    with cache.reading(("t", "c")) as ticket:
        cache.invalidate(("t", "c"))
        cache.put(("t", "c"), headers("old"), ticket)
    assert cache.get(("t", "c")) is None


def test_change_to_another_connection_during_a_read_keeps_the_fill(clock):
    """Changes are counted per connection: news of other connections (of any tenant) never costs a fill."""
    cache = HeaderCache(size=10, ttl=60, clock=clock)
    with cache.reading(("t", "a")) as ticket:
        cache.invalidate(("t", "b"))
        cache.forget([("u", "a"), ("t", "c")])
        cache.put(("t", "a"), headers("fresh"), ticket)
    assert cache.get(("t", "a")) == (headers("fresh"), False)


def test_each_overlapping_read_is_judged_by_changes_since_it_began(clock):
    """Two reads of one connection with a change between their starts: the first one's fill is
    refused, the second one's (begun after the change) is kept."""
    cache = HeaderCache(size=10, ttl=60, clock=clock)
    key = ("t", "a")
    with cache.reading(key) as first:
        cache.invalidate(key)
        with cache.reading(key) as second:
            cache.put(key, headers("old"), first)
            assert cache.get(key) is None
            cache.put(key, headers("new"), second)
        assert cache.get(key) == (headers("new"), False)


def test_a_ticket_is_refused_once_its_read_has_ended(clock):
    """After a read ends its connection's count is dropped (bounded memory), so its ticket proves
    nothing any more: a late put is refused rather than trusted."""
    cache = HeaderCache(size=10, ttl=60, clock=clock)
    with cache.reading(("t", "a")) as ticket:
        pass
    cache.put(("t", "a"), headers(), ticket)
    assert cache.get(("t", "a")) is None


def test_a_failed_read_leaves_no_trace(clock):
    cache = HeaderCache(size=10, ttl=60, clock=clock)
    with pytest.raises(RuntimeError), cache.reading(("t", "a")):
        raise RuntimeError("vault down")
    put(cache, ("t", "a"), headers())
    assert cache.get(("t", "a")) is not None


@pytest.mark.parametrize(("size", "ttl"), [(0, 60), (10, 0)])
def test_zero_size_or_ttl_disables(clock, size, ttl):
    cache = HeaderCache(size=size, ttl=ttl, clock=clock)
    put(cache, ("t", "c"), headers())
    assert cache.get(("t", "c")) is None and len(cache) == 0


def test_news_of_changes_elsewhere_drops_their_entries(clock):
    """The event log's news (changes made on any replica) drops those connections' entries, refuses a
    fill that raced with it, and None (news that could not be listed) drops everything."""
    cache = HeaderCache(size=10, ttl=10, clock=clock)
    for connection in ("a", "b", "c"):
        put(cache, ("t", connection), headers())
    with cache.reading(("t", "a")) as racing:
        cache.forget([("t", "a")])
        assert cache.get(("t", "a")) is None and cache.get(("t", "b")) is not None
        cache.put(("t", "a"), headers("old"), racing)
    assert cache.get(("t", "a")) is None
    with cache.reading(("t", "b")) as racing:
        cache.forget(None)
        assert len(cache) == 0
        cache.put(("t", "b"), headers("old"), racing)
    assert len(cache) == 0


def test_close_cancels_the_refreshes_in_flight(clock):
    """At shutdown a background re-read stuck on Vault is cancelled and awaited, and stores nothing."""
    cache = HeaderCache(size=10, ttl=60, clock=clock)
    put(cache, ("t", "a"), headers("old"))
    started = asyncio.Event()
    cancelled: list[Key] = []

    async def load(key: Key) -> AuthHeaders:
        started.set()
        try:
            await asyncio.Event().wait()  # a Vault read that never answers
        except asyncio.CancelledError:
            cancelled.append(key)
            raise
        return headers("new")

    async def run() -> None:
        refresh = HeaderRefresh(cache, load)
        refresh.soon(("t", "a"))
        await started.wait()
        await refresh.close()
        assert cancelled == [("t", "a")]  # ended by close, not by the loop's own teardown

    asyncio.run(run())
    assert cache.get(("t", "a")) == (headers("old"), False)
