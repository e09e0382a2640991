"""The claiming loop the re-check schedule and the expiry pass share: every tick, look at the current
numbered period (re-check slice, expiry minute) and the few before it, claim each one not yet settled
by check-and-set in Vault, and work through each claimed one in a task of its own. Which periods there
are, how a claim is made and what working one means is the caller's.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from credvault.domain.errors import CredvaultError

if TYPE_CHECKING:
    from typing_extensions import TypeIs


class Held(Protocol):
    """A period another replica holds (or has finished: `done`), until its lease runs out."""

    @property
    def done(self) -> bool: ...

    @property
    def until(self) -> float: ...


C = TypeVar("C")
H = TypeVar("H", bound=Held)


@dataclass(frozen=True)
class ClaimLoop(Generic[C, H]):
    noun: str
    """What a period is called in the logs ("re-check slice")."""
    log: logging.Logger
    """The caller's logger, so that the loop's lines keep its name."""
    period_at: Callable[[float], int]
    """The number of the period a moment falls in."""
    lookback: int
    """Past periods still worth a look: long enough for a dead owner's lease to run out."""
    claim: Callable[[int], Awaitable[C | H]]
    held: type[H]
    """The type of the claim call's answer for a period this replica did not get."""
    work: Callable[[C], Coroutine[Any, Any, bool]]
    """Works through a claimed period; True when it needs no other look."""
    tick: float
    clock: Callable[[], float]
    held_wait: float = math.inf
    """Look again at a held period after at most this many seconds (before its lease runs out)."""
    settle_failed: bool = False
    """Whether a period whose work raised (or was cancelled) is settled too, rather than claimed again."""

    async def run(self) -> None:
        """Runs until cancelled."""
        settled: set[int] = set()
        look_again: dict[int, float] = {}
        working: dict[int, asyncio.Task[bool]] = {}
        try:
            while True:
                now = self.clock()
                current = self.period_at(now)
                oldest = current - self.lookback
                settled = {n for n in settled if n >= oldest}
                look_again = {n: t for n, t in look_again.items() if n >= oldest}
                for number in range(oldest, current + 1):
                    if number in settled or number in working or look_again.get(number, 0.0) > now:
                        continue
                    try:
                        answer = await self.claim(number)
                    except CredvaultError as error:
                        self.log.warning("could not claim %s %d (%s)", self.noun, number, error.reason)
                        break
                    if self._is_held(answer):
                        if answer.done:
                            settled.add(number)
                        else:  # its owner may hand it over before its lease runs out
                            look_again[number] = min(answer.until, now + self.held_wait)
                        continue
                    working[number] = asyncio.create_task(self.work(answer))
                for number, task in list(working.items()):
                    if task.done():
                        del working[number]
                        if self._finished(number, task):
                            settled.add(number)
                await asyncio.sleep(self.tick)
        finally:
            for task in working.values():
                task.cancel()

    def _is_held(self, answer: C | H) -> TypeIs[H]:
        return isinstance(answer, self.held)

    def _finished(self, number: int, task: asyncio.Task[bool]) -> bool:
        """Whether the period a finished task worked on is settled."""
        if task.cancelled():
            return self.settle_failed
        failure = task.exception()
        if failure is not None:  # the type only: an unexpected error's text may quote a secret
            self.log.error("%s %d failed (%s)", self.noun, number, type(failure).__name__)
            return self.settle_failed
        return task.result()
