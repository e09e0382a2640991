"""The re-check schedule's shared state in Vault, and nowhere else: who works through which slice,
and each provider's check budget and pause (the expiry index is `expiry_book`'s). Every change is a
check-and-set write, so replicas agree without a leader.

Documents (JSON, under the schedule folder beside the connections):
- `slices/<interval>s-<slot>`: the latest claim of that slot: `{slice, owner, lease_until, done}`. A replica
  that claims a slice renews its lease while it works and marks it done; a lease that runs out lets
  another replica take the slice over.
- `rate/<provider>`: `{window, owner, paused_until}`: whoever writes `window` (a number of rate
  windows since the epoch) may make that window's checks for the provider; `paused_until` holds
  everyone's checks of it after a 429 or an outage.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from credvault.domain.recheck_timing import Timing

Document = dict[str, Any]


class Documents(Protocol):
    """Small JSON documents in Vault with check-and-set (KV v2 versions)."""

    async def read(self, path: str) -> tuple[Document, int] | None:
        """The document and its version; None when there is none."""

    async def write(self, path: str, data: Document, cas: int) -> int | None:
        """Writes over version `cas` (0: must not exist); the new version, or None when someone else
        wrote first."""


@dataclass
class Claim:
    """A slice this replica holds: `version` is what its next check-and-set write must name."""

    number: int
    version: int
    taken_over: bool
    """True when another replica held it first (some of its connections may be checked already)."""


@dataclass(frozen=True)
class Held:
    """The slice is someone else's for now: look again after `until` (a Unix time), unless done."""

    until: float
    done: bool


@dataclass(frozen=True)
class Window:
    """The answer to a claim of a provider's rate window: `ours`, or try again at `retry_at` (the
    next window, or the end of a pause when `paused`)."""

    ours: bool
    retry_at: float
    paused: bool


class ScheduleBook:
    def __init__(
        self,
        documents: Documents,
        timing: Timing,
        owner: str,
        lease: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._docs = documents
        self._timing = timing
        self._owner = owner
        self._lease = lease
        self._clock = clock

    # -- slices ------------------------------------------------------------------------------------

    async def claim(self, number: int) -> Claim | Held:
        path = self._slice_path(number)
        found = await self._docs.read(path)
        doc, version = found if found is not None else ({}, 0)
        taken_over = False
        if doc.get("slice", -1) > number:
            return Held(until=float("inf"), done=True)  # a later cycle already used the slot
        if doc.get("slice") == number:
            if doc.get("done"):
                return Held(until=float("inf"), done=True)
            if float(doc.get("lease_until", 0)) > self._clock():
                return Held(until=float(doc["lease_until"]), done=False)
            taken_over = True
        written = await self._docs.write(path, self._slice_doc(number, done=False), cas=version)
        if written is None:
            return Held(until=self._clock() + self._lease, done=False)
        return Claim(number, written, taken_over)

    async def renew(self, claim: Claim, done: bool = False) -> bool:
        """Extends the lease (or marks the slice done); False when the slice was lost meanwhile."""
        path = self._slice_path(claim.number)
        written = await self._docs.write(path, self._slice_doc(claim.number, done), cas=claim.version)
        if written is None:
            return False
        claim.version = written
        return True

    def _slice_doc(self, number: int, done: bool) -> Document:
        return {
            "slice": number,
            "owner": self._owner,
            "lease_until": self._clock() + self._lease,
            "done": done,
        }

    # -- provider budgets --------------------------------------------------------------------------

    async def take_window(self, provider: str, window: int, next_window_at: float) -> Window:
        """Claims rate window `window` of `provider`'s checks for this replica."""
        path = _rate_path(provider)
        found = await self._docs.read(path)
        doc, version = found if found is not None else ({}, 0)
        paused_until = float(doc.get("paused_until", 0))
        if paused_until > self._clock():
            return Window(ours=False, retry_at=paused_until, paused=True)
        busy = Window(ours=False, retry_at=next_window_at, paused=False)
        if int(doc.get("window", -1)) >= window:
            return busy  # another replica's (or, through clock skew, already a later one)
        claimed = {**doc, "window": window, "owner": self._owner}
        if await self._docs.write(path, claimed, cas=version) is None:
            return busy
        return Window(ours=True, retry_at=0.0, paused=False)

    async def pause(self, provider: str, until: float) -> None:
        """Holds every replica's checks of `provider` until `until` (a later pause already set wins)."""
        path = _rate_path(provider)
        for _ in range(5):
            found = await self._docs.read(path)
            doc, version = found if found is not None else ({}, 0)
            if float(doc.get("paused_until", 0)) >= until:
                return
            if await self._docs.write(path, {**doc, "paused_until": until}, cas=version) is not None:
                return

    def _slice_path(self, number: int) -> str:
        return f"slices/{self._timing.interval:g}s-{number % self._timing.slots}"


def _rate_path(provider: str) -> str:
    return f"rate/{provider}"
