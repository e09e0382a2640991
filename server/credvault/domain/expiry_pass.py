"""The expiry pass each replica runs, whatever the re-check interval (even 0): claim the minutes of the
expiry index (`expiry_book`) as they begin, and settle each entry at its time through `Expiry.settle`
(a check-and-set write of the connection with its event, so one replica emits it).

Like the re-check loop, a replica looks at the current minute and the one or two before it (enough
for a dead owner's lease to run out), never further back. An entry a new owner takes over is settled
again; settling is idempotent, since the record says what was emitted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from credvault.domain.claim_loop import ClaimLoop
from credvault.domain.errors import CredvaultError
from credvault.domain.expiry import Expiry
from credvault.domain.expiry_book import WIDTH, Claim, ExpiryBook, Held, Item, minute_of
from credvault.domain.model import ConnectionRecord, Deadline

log = logging.getLogger(__name__)

LEASE = 15.0
"""Seconds a claimed minute stays claimed without a renewal; its owner renews every third of it."""
LOOKBACK = 2
"""Past minutes still worth a look: a dead owner's lease (15 s) runs out well within them."""
KEEP = LOOKBACK + 2
"""A finished minute's document is removed once it is this many minutes old."""
TICK = 1.0
"""Seconds between looks: at the minutes coming due, and (by a minute's owner) at its document, so an
entry added to the minute under way is seen within about a second."""


class ExpiryPass:
    def __init__(self, book: ExpiryBook, expiry: Expiry, clock: Callable[[], float] = time.time) -> None:
        self._book = book
        self._expiry = expiry
        self._clock = clock

    async def arm(self, record: ConnectionRecord, deadline: Deadline) -> None:
        """Registers the record's expiry moments (called before the write that brings them)."""
        for moment in self._expiry.moments(record):
            await self._book.add(moment.timestamp(), record.tenant_id, record.connection_id, deadline)

    async def run(self) -> None:
        """Runs until cancelled."""
        await ClaimLoop(
            log=log,
            noun="expiry minute",
            period_at=minute_of,
            lookback=LOOKBACK,
            claim=self._book.claim,
            held=Held,
            work=self._work,
            tick=TICK,
            held_wait=LEASE / 3,
            clock=self._clock,
        ).run()

    async def _work(self, claim: Claim) -> bool:
        """Settles the minute's entries at their times, reading the document every tick (for entries
        added meanwhile) and renewing the claim, until the minute is over and every entry settled;
        then marks it done. False when the minute must be looked at again (Vault trouble)."""
        started: set[Item] = set()
        pending: set[asyncio.Task[None]] = set()
        renewed = self._clock()
        try:
            while True:
                for item in claim.items:
                    if item not in started:
                        started.add(item)
                        pending.add(asyncio.create_task(self._at(item)))
                pending = {task for task in pending if not task.done()}
                if self._clock() >= (claim.number + 1) * WIDTH and not pending:
                    before = len(claim.items)
                    if not await self._book.renew(claim, done=True):
                        break
                    if len(claim.items) == before:
                        return await self._forget(claim.number - KEEP)
                    continue  # entries came in at the last moment: settle them first
                await asyncio.sleep(TICK)
                if self._clock() - renewed >= LEASE / 3:
                    held = await self._book.renew(claim)
                    renewed = self._clock()
                else:
                    held = await self._book.refresh(claim)
                if not held:
                    break
        except CredvaultError as error:
            log.warning("expiry minute %d stopped (%s); another look takes it up", claim.number, error.reason)
            return False
        except asyncio.CancelledError:  # shutting down: let another replica take the minute at once
            with contextlib.suppress(CredvaultError):
                await self._book.release(claim)
            raise
        finally:
            for task in pending:
                task.cancel()
        log.warning("expiry minute %d was taken over by another replica", claim.number)
        return True

    async def _forget(self, number: int) -> bool:
        try:
            await self._book.forget(number)
        except CredvaultError as error:
            log.warning("could not remove expiry minute %d (%s)", number, error.reason)
        return True

    async def _at(self, item: Item) -> None:
        when, tenant_id, connection_id = item
        while (left := when - self._clock()) > 0:
            await asyncio.sleep(left)
        try:
            await self._expiry.settle(tenant_id, connection_id)
        except CredvaultError as error:
            log.warning(
                "could not settle a connection's expiry (%s)",
                error.reason,
                extra={"tenant_id": tenant_id, "connection_id": connection_id},
            )
        except Exception as error:  # one broken entry must not stop the minute's others
            log.error(  # the type only: an unexpected error's text may quote a secret
                "could not settle a connection's expiry (%s)",
                type(error).__name__,
                extra={"tenant_id": tenant_id, "connection_id": connection_id},
            )
