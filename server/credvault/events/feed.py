"""Watching a tenant's connection events: replay after a cursor, then the new ones as they come.

Each replica reads the log's head from Vault every `poll` seconds while anyone watches on it (else every
`IDLE_POLL` seconds, which is also when it settles intents left by dead replicas and, every
`PRUNE_EVERY`, prunes old pages). A read costs one Vault request whatever the number of watchers and
tenants; events made on the same replica reach its watchers at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

from credvault.domain.errors import CredvaultError, FieldViolation, InvalidArgumentError, UnavailableError
from credvault.domain.model import id_violation
from credvault.events.head import Head
from credvault.events.journal import Journal
from credvault.events.model import Event, decode_cursor, expired_cursor

log = logging.getLogger(__name__)

IDLE_POLL = 1.0
"""Seconds between head reads while nobody watches on this replica."""
PRUNE_EVERY = 60.0
WAIT_SLICE = 5.0
"""Seconds a watcher waits for a new head before looking again (and noticing a shutdown)."""


class EventFeed:
    def __init__(self, journal: Journal, retention: float, poll: float) -> None:
        self._journal = journal
        self._retention = retention
        self._poll = poll
        self._watchers = 0
        self._closing = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._upkeep())

    async def close(self) -> None:
        """Ends every watch (UNAVAILABLE: watch again, elsewhere) and stops the upkeep."""
        self._closing.set()
        await self._journal.wake_all()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def position(self, tenant_id: str, after: str, deadline: float | None) -> tuple[Head, int]:
        """Where a watch of the tenant's events after the cursor `after` (empty: from now) begins:
        the head read now (within the call's `deadline`, in seconds) and the seq after which to send.
        OUT_OF_RANGE when the cursor's events are no longer kept."""
        bad = id_violation("tenant_id", tenant_id)
        if bad is not None:
            raise InvalidArgumentError([bad])
        head = await self._journal.head(deadline)
        return head, self._start(head, after) if after else head.last

    async def follow(self, tenant_id: str, head: Head, seq: int) -> AsyncIterator[tuple[Event, str]]:
        """The tenant's events after `seq`, each with its cursor, in log order; never ends by itself
        (UNAVAILABLE when the server shuts down)."""
        self._watchers += 1
        self._wake.set()  # poll at the watchers' pace from now
        try:
            while True:
                async for event in self._journal.events_after(seq, head):
                    seq = event.seq
                    if event.tenant_id == tenant_id:
                        yield event, event.cursor(head.epoch)
                newer = None
                while newer is None:
                    if self._closing.is_set():
                        raise UnavailableError(
                            "the server is shutting down; watch again with the last cursor",
                            reason="SERVER_SHUTTING_DOWN",
                            retry_after=0.0,
                        )
                    newer = await self._journal.newer_than(seq, WAIT_SLICE)
                head = newer
        finally:
            self._watchers -= 1

    def _start(self, head: Head, after: str) -> int:
        cursor = decode_cursor(after)
        if cursor.epoch != head.epoch:
            raise expired_cursor("from an event log that is no longer kept")
        if time.time() - cursor.occurred_at.timestamp() > self._retention or cursor.seq + 1 < head.first:
            raise expired_cursor("older than the event retention (CREDVAULT_EVENT_RETENTION)")
        if cursor.seq > head.last:
            raise InvalidArgumentError([FieldViolation("after", "names an event this log never had")])
        return cursor.seq

    async def _upkeep(self) -> None:
        pruned = 0.0
        while True:
            try:
                head = await self._journal.head()
                if head.pending:
                    await self._journal.settle(head)
                if time.monotonic() - pruned > PRUNE_EVERY:
                    pruned = time.monotonic()
                    await self._journal.prune(head, self._retention)
            except CredvaultError as error:
                log.warning("could not read the event log (%s); trying again", error.reason)
            except Exception:  # a bug must not stop every watch on this replica
                log.exception("event log upkeep failed; trying again")
            self._wake.clear()
            try:
                async with asyncio.timeout(self._poll if self._watchers else IDLE_POLL):
                    await self._wake.wait()
            except TimeoutError:
                pass
