"""Each provider's check budget across the deployment: at most `rate` checks per second, and none
while the provider is paused after a 429 or an outage.

The budget is a sequence of rate windows (one second each, longer below one check per second). A
replica that claims a window in Vault (check-and-set on the provider's rate document) may spend that
window's checks; the others wait for the next one. So the deployment never makes more than `rate`
checks of a provider in a window, whatever the number of replicas, at the cost of one read and one
write per provider per window in which some replica has a check to make.

No rate-limiting library fits: aiolimiter and the like count within one process, and `limits` keeps
its counters in Redis, Memcached or MongoDB, while here Vault is the only shared state. The pause is
Retry-After (clamped), or a doubling delay when the provider gave none.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

from credvault.domain.recheck_book import ScheduleBook
from credvault.domain.recheck_timing import Timing

MIN_PAUSE = 1.0
MAX_PAUSE = 3600.0
"""Bounds on a pause taken from Retry-After: a provider can't stop the checks for longer than this."""
PACED_SHARE = 0.5
"""The part of a rate window its checks are spread over."""
BACKOFF_FIRST = 10.0
BACKOFF_MAX = 900.0
"""A pause without Retry-After: 10 s, doubling with each outage in a row, up to 15 minutes."""


class Paused(Exception):
    """The provider's checks are paused until `until` (a Unix time)."""

    def __init__(self, provider: str, until: float) -> None:
        super().__init__(f"checks of {provider} are paused")
        self.provider = provider
        self.until = until


class ProviderBudgets:
    def __init__(
        self,
        book: ScheduleBook,
        timing: Timing,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._book = book
        self._timing = timing
        self._clock = clock
        self._sleep = sleep
        self._held: dict[str, tuple[int, int]] = {}
        """Per provider: the window this replica holds and the checks left in it."""
        self._paused: dict[str, float] = {}
        self._strikes: dict[str, int] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def acquire(self, provider: str) -> None:
        """Waits for a check of `provider` to be allowed; raises Paused while it is paused."""
        lock = self._locks.setdefault(provider, asyncio.Lock())
        async with lock:
            while True:
                now = self._clock()
                if self._paused.get(provider, 0.0) > now:
                    raise Paused(provider, self._paused[provider])
                length = self._timing.rate_window
                window = math.floor(now / length)
                held, left = self._held.get(provider, (-1, 0))
                if held == window and left > 0:
                    self._held[provider] = (window, left - 1)
                    await self._paced(window, left)
                    if self._clock() < (window + 1) * length:
                        return
                    continue  # woke up too late (a stalled loop): spending it now would crowd the next window
                answer = await self._book.take_window(provider, window, (window + 1) * length)
                if answer.ours:
                    self._held[provider] = (window, self._timing.checks_per_window - 1)
                    if self._clock() < (window + 1) * length:
                        return
                    continue
                if answer.paused:
                    self._paused[provider] = answer.retry_at
                    raise Paused(provider, answer.retry_at)
                await self._sleep(max(answer.retry_at - self._clock(), 0.0))

    async def _paced(self, window: int, left: int) -> None:
        """Spreads a window's checks evenly over its first half rather than sending them at once: the
        second half is the margin for delays on the way to the provider, so that they do not carry a
        window's checks into the provider's next second."""
        per_window = self._timing.checks_per_window
        length = self._timing.rate_window
        at = (window + PACED_SHARE * (per_window - left) / per_window) * length
        await self._sleep(max(at - self._clock(), 0.0))

    async def pause(self, provider: str, retry_after: float | None) -> float:
        """Pauses every replica's checks of `provider`; returns the Unix time the pause ends."""
        strikes = self._strikes.get(provider, 0)
        if retry_after is None:
            seconds = min(BACKOFF_FIRST * 2.0**strikes, BACKOFF_MAX)
        else:
            seconds = min(max(retry_after, MIN_PAUSE), MAX_PAUSE)
        self._strikes[provider] = strikes + 1
        until = self._clock() + seconds
        self._paused[provider] = max(self._paused.get(provider, 0.0), until)
        await self._book.pause(provider, until)
        return until

    def answered(self, provider: str) -> None:
        """The provider answered a check: the next outage starts its backoff afresh."""
        self._strikes.pop(provider, None)
