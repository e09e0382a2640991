"""The header cache's bounds, on a clock the test moves (no waiting, no wall clock)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from credvault.domain.cache import HeaderCache
from credvault.domain.model import AuthHeaders

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
    cache.put(key, value, cache.ticket())


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
    ticket = cache.ticket()
    cache.invalidate(("t", "c"))
    cache.put(("t", "c"), headers("old"), ticket)
    assert cache.get(("t", "c")) is None


@pytest.mark.parametrize(("size", "ttl"), [(0, 60), (10, 0)])
def test_zero_size_or_ttl_disables(clock, size, ttl):
    cache = HeaderCache(size=size, ttl=ttl, clock=clock)
    put(cache, ("t", "c"), headers())
    assert not cache.enabled and cache.get(("t", "c")) is None


def test_news_of_changes_elsewhere_drops_their_entries(clock):
    """The event log's news (changes made on any replica) drops those connections' entries, refuses a
    fill that raced with it, and None (news that could not be listed) drops everything."""
    cache = HeaderCache(size=10, ttl=10, clock=clock)
    for connection in ("a", "b", "c"):
        put(cache, ("t", connection), headers())
    racing = cache.ticket()
    cache.forget([("t", "a")])
    assert cache.get(("t", "a")) is None and cache.get(("t", "b")) is not None
    cache.put(("t", "a"), headers("old"), racing)
    assert cache.get(("t", "a")) is None
    cache.forget(None)
    assert len(cache) == 0
