"""The re-check loop each replica runs: claim the slices coming due (in Vault, so each is worked
through by one replica), and check each of their connections at its due time through the service's
verify use case, within its provider's budget.

A replica looks at the current slice and the few before it (enough to take over a slice whose owner
died: its lease runs out and the slice is claimed again). It never goes further back, so a restart
or a crash brings no burst of checks. A connection more than an interval late is left to its next
turn rather than checked twice in a row.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from credvault.domain.claim_loop import ClaimLoop
from credvault.domain.errors import CredvaultError, NotFoundError, ProviderUnavailableError, RateLimitedError
from credvault.domain.expiry import Expiry
from credvault.domain.model import ConnectionRecord, Deadline, Status
from credvault.domain.recheck_book import Claim, Held, ScheduleBook
from credvault.domain.recheck_budget import Paused, ProviderBudgets
from credvault.domain.recheck_timing import Timing
from credvault.events.changes import Arm

log = logging.getLogger(__name__)

MAX_LEASE = 15.0
"""Seconds a slice stays claimed without a renewal (less for short slices, down to 3 s); its owner
renews it every third of that. A dead owner's slice is taken over once its lease has run out."""
MIN_LEASE = 3.0


def lease_for(timing: Timing) -> float:
    return min(MAX_LEASE, max(MIN_LEASE, timing.width))


TICK = 1.0
"""Seconds between looks at the slices coming due (no Vault request unless one needs claiming)."""

Gate = Callable[[ConnectionRecord], Awaitable[None]]
CheckObserver = Callable[[str, str], None]
"""Told of each scheduled check: provider id, result (ok, rejected, expired, paused, skipped)."""


class Verifier(Protocol):
    async def verify(
        self, tenant_id: str, connection_id: str, deadline: Deadline, gate: Gate | None = None
    ) -> ConnectionRecord: ...


class Roster(Protocol):
    """Lists the connections, tenant by tenant."""

    async def tenants(self) -> list[str]: ...

    async def connection_ids(self, tenant_id: str) -> list[str]: ...


class _Skip(Exception):
    """The scheduled check is not needed after all."""


@dataclass(frozen=True)
class _Item:
    due: float
    tenant_id: str
    connection_id: str


class Rechecker:
    def __init__(
        self,
        timing: Timing,
        book: ScheduleBook,
        budgets: ProviderBudgets,
        roster: Roster,
        verifier: Verifier,
        expiry: Expiry,
        arm: Arm,
        observe: CheckObserver = lambda *_: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._timing = timing
        self._book = book
        self._budgets = budgets
        self._roster = roster
        self._verifier = verifier
        self._expiry = expiry
        self._arm = arm
        self._observe = observe
        self._clock = clock
        self._lease = lease_for(timing)
        self._lookback = math.ceil((self._lease + timing.width) / timing.width) + 1
        """Past slices still worth a look: long enough for a dead owner's lease to run out."""

    async def run(self) -> None:
        """Runs until cancelled."""
        await ClaimLoop(
            log=log,
            noun="re-check slice",
            period_at=self._timing.slice_at,
            lookback=self._lookback,
            claim=self._book.claim,
            held=Held,
            work=self._work,
            tick=min(TICK, self._timing.width / 4),
            settle_failed=True,
            clock=self._clock,
        ).run()

    async def _work(self, claim: Claim) -> bool:
        """Works through one claimed slice, renewing the claim meanwhile; marks it done at the end.
        Always True: this replica claims a slice once; one it could not finish is left to the others."""
        renewer = asyncio.create_task(self._renew(claim))
        try:
            items = await self._items(claim.number)
            checks = [asyncio.create_task(self._at(item, claim.taken_over)) for item in items]
            await asyncio.gather(*checks)
        except CredvaultError as error:
            log.warning(
                "re-check slice %d stopped (%s); another look will take it up", claim.number, error.reason
            )
            return True
        finally:
            renewer.cancel()
        try:
            await self._book.renew(claim, done=True)
        except CredvaultError as error:
            log.warning("could not mark re-check slice %d done (%s)", claim.number, error.reason)
        return True

    async def _renew(self, claim: Claim) -> None:
        while True:
            await asyncio.sleep(self._lease / 3)
            try:
                if not await self._book.renew(claim):
                    log.warning("re-check slice %d was taken over by another replica", claim.number)
                    return
            except CredvaultError as error:
                log.warning("could not renew re-check slice %d (%s)", claim.number, error.reason)

    async def _items(self, number: int) -> list[_Item]:
        """The slice's connections (those whose phase falls in its slot)."""
        slot = number % self._timing.slots
        items = []
        for tenant_id in await self._roster.tenants():
            for connection_id in await self._roster.connection_ids(tenant_id):
                if self._timing.slot_of(tenant_id, connection_id) == slot:
                    due = self._timing.due_in(number, tenant_id, connection_id)
                    items.append(_Item(due, tenant_id, connection_id))
        return sorted(items, key=lambda item: item.due)

    async def _at(self, item: _Item, taken_over: bool) -> None:
        await asyncio.sleep(max(item.due - self._clock(), 0.0))
        try:
            await self._check(item, taken_over)
        except CredvaultError as error:
            log.warning(
                "scheduled look at a connection failed (%s)",
                error.reason,
                extra={"tenant_id": item.tenant_id, "connection_id": item.connection_id},
            )
        except Exception as error:  # one broken entry must not stop the slice's other checks
            log.error(  # the type only: an unexpected error's text may quote a secret
                "scheduled look at a connection failed unexpectedly (%s)",
                type(error).__name__,
                extra={"tenant_id": item.tenant_id, "connection_id": item.connection_id},
            )

    async def _check(self, item: _Item, taken_over: bool) -> None:
        """Checks one connection, waiting out its provider's pauses while the check is still worth
        making; then settles any expiry it is owed."""
        seen: list[ConnectionRecord] = []

        async def gate(record: ConnectionRecord) -> None:
            seen[:] = [record]
            now = self._clock()
            await self._arm_expiry(record, now)
            checked = record.last_verified_at
            if taken_over and checked is not None and checked.timestamp() >= item.due:
                raise _Skip()  # the replica that held the slice before got to it
            if now > item.due + self._timing.interval:
                raise _Skip()  # its next turn is due already
            await self._budgets.acquire(record.provider)

        while True:
            try:
                record = await self._verifier.verify(item.tenant_id, item.connection_id, Deadline(None), gate)
            except NotFoundError:
                return  # deleted since the listing
            except _Skip:
                self._observe(seen[0].provider, "skipped")
                break
            except Paused as paused:
                self._observe(paused.provider, "paused")
                await asyncio.sleep(max(paused.until - self._clock(), 0.0))
                continue
            except (RateLimitedError, ProviderUnavailableError) as error:
                provider = seen[0].provider if seen else error.metadata.get("provider", "")
                until = await self._budgets.pause(provider, error.retry_after)
                self._observe(provider, "paused")
                log.warning(
                    "pausing re-checks of %s for %.0fs (%s)", provider, until - self._clock(), error.reason
                )
                continue
            ok = record.last_outcome is not None and record.last_outcome.ok
            if record.status is Status.EXPIRED:
                self._observe(record.provider, "expired")
            else:
                self._budgets.answered(record.provider)
                self._observe(record.provider, "ok" if ok else "rejected")
            seen[:] = [record]
            break
        if seen and self._expiry.near(seen[0], datetime.now(UTC)):
            await self._expiry.settle(item.tenant_id, item.connection_id)

    async def _arm_expiry(self, record: ConnectionRecord, now: float) -> None:
        """Makes sure the expiry index holds the connection's moments that come before its next
        check (a connection stored before the index existed has none)."""
        if any(
            now < moment.timestamp() <= now + self._timing.interval for moment in self._expiry.moments(record)
        ):
            await self._arm(record, Deadline(None))
