"""The connection event log, kept in Vault, shared by every replica.

How a change and its event are never apart: the change of a connection is one check-and-set write of
its KV entry, and the log's head (`credvault.log_head`) is another document, so the two cannot be
written in one step. Instead a change (1) records an intent in the head (the event, the connection's
generation and the version its write names), (2) writes the connection, whose record carries the
event's id (`ConnectionRecord.event_ids`), (3) moves the intent into the log. The record is the proof:
an intent whose event id is in the record was made; one whose write can no longer succeed (the record
moved past its version, or is gone) was not. A replica killed between the steps leaves an intent, which
any replica settles within about a second by reading the record (`settle`). So an acknowledged change
always has its event, and a refused one never does.

Each replica writes the head from one task that applies every change waiting (group commit), so a
burst of changes costs a few head writes, not one each. Full pages of 32 events move out of the head
into documents of their own (`_events/pages/<n>`); pages past the retention are deleted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from credvault.domain.connections import ConnectionStore
from credvault.domain.errors import (
    AlreadyExistsError,
    ConflictError,
    CredvaultError,
    FailedPreconditionError,
    NotFoundError,
    StoreUnavailableError,
)
from credvault.domain.model import Deadline
from credvault.events.head import PAGE, Commit, CommitDeleted, Drop, Head, Intend, Op, Prune, Seal
from credvault.events.model import Event, EventType, expired_cursor

log = logging.getLogger(__name__)

HEAD = "events/head"
SETTLE_AFTER = 1.0
"""Seconds an intent is left to its writer before any replica settles it from the record."""
WRITE_GRACE = 30.0
"""Seconds after its writer's deadline before an intent whose record never changed is dropped."""
UNBOUNDED_WRITE = 60.0
"""Seconds a write without a caller's deadline may still be in flight (the store's retry budget and
hvac's timeout)."""
COMMIT_WAIT = 2.0
"""Seconds a change waits for its event to reach the log before answering anyway (it is settled later)."""
HEAD_ATTEMPTS = 20
KEEP_EVENT_IDS = 8
"""Event ids a connection record keeps (its latest changes)."""
REFUSED = (ConflictError, AlreadyExistsError, NotFoundError, FailedPreconditionError)
"""Errors by which a write was certainly not made."""

EventObserver = Callable[[Event], None]
NewsObserver = Callable[[list[Event] | None], None]
"""Told of the events a newer head brings, from any replica, before any reader waiting for them
wakes; None when they cannot all be listed (some were sealed into pages unseen, or the log is new)."""


class Documents(Protocol):
    """Where the log's documents are kept: Vault (`credvault.vault.event_documents`), or memory in
    unit tests. Writes with `cas` raise ConflictError when another write came first."""

    async def read(self, name: str, deadline: float | None) -> tuple[dict[str, Any], int] | None: ...

    async def write(
        self, name: str, data: dict[str, Any], cas: int | None, deadline: float | None
    ) -> int: ...

    async def delete(self, name: str, deadline: float | None) -> None: ...


def page_name(page: int) -> str:
    return f"events/pages/{page}"


@dataclass
class _Queued:
    op: Op
    done: asyncio.Future[None]


class Journal:
    """Appends events (with the changes that cause them) and hands out the head to readers."""

    def __init__(
        self,
        store: ConnectionStore,
        documents: Documents,
        observe: EventObserver = lambda _event: None,
        on_news: NewsObserver = lambda _events: None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._wall = wall
        """Unix seconds now (tests move it)."""
        self._store = store
        self._documents = documents
        self._observe = observe
        self._on_news = on_news
        self._queue: asyncio.Queue[_Queued] = asyncio.Queue()
        self._head: Head | None = None
        self._woken = False
        self._changed = asyncio.Condition()
        self._writer: asyncio.Task[None] | None = None

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)

    # -- changes -----------------------------------------------------------------------------------

    async def change(
        self,
        event: Event,
        generation: str,
        base: int,
        write: Callable[[], Awaitable[int]],
        deadline: Deadline,
        event_ids: tuple[str, ...] = (),
    ) -> int:
        """Makes a change of a connection together with its event. `write` makes the change: a
        check-and-set write naming version `base` (0: create) of the connection's `generation` whose
        record carries `event_ids` (ending with the event's id), or a deletion; it returns the
        version written. Raises what `write` raises, or UNAVAILABLE (nothing changed) when the
        intent cannot be recorded."""
        left = deadline.remaining()
        now = self._wall()
        until = now + (UNBOUNDED_WRITE if left is None else left)
        try:
            async with asyncio.timeout(left):
                await asyncio.shield(self._submit(Intend(event, generation, base, until, now)))
        except TimeoutError:
            raise StoreUnavailableError(
                "Vault did not take the change's event before the call's deadline; nothing was changed",
                reason="VAULT_TIMEOUT",
            ) from None
        try:
            version = await write()
        except REFUSED:
            self._submit_nowait(Drop(event.event_id))
            raise
        if event.type is EventType.DELETED:
            settled: Op = CommitDeleted(event.event_id)
        else:
            settled = Commit(event.tenant_id, event.connection_id, generation, version, event_ids)
        try:
            async with asyncio.timeout(COMMIT_WAIT):
                await asyncio.shield(self._submit(settled))
        except (TimeoutError, CredvaultError) as error:
            log.warning("event %s will be settled later (%s)", event.event_id, type(error).__name__)
        return version

    @staticmethod
    def carried(previous: tuple[str, ...], event: Event) -> tuple[str, ...]:
        """The event ids a record keeps once `event` is added."""
        return (*previous, event.event_id)[-KEEP_EVENT_IDS:]

    # -- reading -----------------------------------------------------------------------------------

    async def head(self, deadline: float | None = None) -> Head:
        """The head as Vault has it now (created on first use); `deadline`: seconds the reads may take
        (None: the store's own bound)."""
        head = await self._read_head(deadline)
        await self._publish(head)
        return head

    async def page(self, page: int) -> list[Event] | None:
        """The events of sealed page `page`, or None when it is no longer kept."""
        found = await self._documents.read(page_name(page), None)
        return None if found is None else [Event.from_dict(e) for e in json.loads(found[0]["events"])]

    async def events_after(self, seq: int, head: Head) -> AsyncIterator[Event]:
        """Every event after `seq` up to `head`: from sealed pages first, then from the head.
        OUT_OF_RANGE when some are no longer kept."""
        while seq + 1 < head.open_from:
            page = await self.page(seq // PAGE) if seq + 1 >= head.first else None
            if page is None:
                raise expired_cursor("older than the event retention (CREDVAULT_EVENT_RETENTION)")
            for event in page:
                if event.seq > seq:
                    yield event
            seq = (seq // PAGE + 1) * PAGE
        for event in head.events_after(seq):
            yield event

    async def newer_than(self, seq: int, timeout: float) -> Head | None:
        """The newest head this replica saw, once it holds an event after `seq`; None after `timeout`
        seconds without one (the feed's upkeep reads the head meanwhile), or at once after `wake_all`."""
        async with self._changed:
            try:
                async with asyncio.timeout(timeout):
                    await self._changed.wait_for(
                        lambda: self._woken or (self._head is not None and self._head.last > seq)
                    )
            except TimeoutError:
                return None
            return None if self._woken else self._head

    async def wake_all(self) -> None:
        """Ends every wait of `newer_than` (the server is shutting down)."""
        async with self._changed:
            self._woken = True
            self._changed.notify_all()

    # -- upkeep (called by credvault.watch's background loop) ---------------------------------------

    async def settle(self, head: Head) -> None:
        """Settles the intents older than SETTLE_AFTER from their connections' records."""
        now = self._wall()
        for intent in [p for p in head.pending if now - float(p["at"]) >= SETTLE_AFTER]:
            op = await self._settled(intent, now)
            if op is not None:
                await self._submit(op)

    async def prune(self, head: Head, retention: float) -> None:
        """Deletes sealed pages whose newest event is older than `retention` seconds."""
        page = (head.first - 1) // PAGE
        while page < head.sealed:
            events = await self.page(page)
            if events and self._wall() - events[-1].occurred_at.timestamp() < retention:
                return
            await self._submit(Prune(page))
            try:
                await self._documents.delete(page_name(page), None)
            except CredvaultError as error:
                log.warning("could not delete event page %d (%s)", page, error.reason)
            page += 1

    async def _settled(self, intent: dict[str, Any], now: float) -> Op | None:
        """What an intent left by its writer comes to, judged from its connection's record; None
        while its write may still be on its way."""
        event = Event.from_dict(intent["event"])
        try:
            stored = await self._store.read(event.tenant_id, event.connection_id, None)
        except NotFoundError:
            stored = None
        same = stored is not None and stored.record.generation == intent["generation"]
        late = now > float(intent["until"]) + WRITE_GRACE
        if event.type is EventType.DELETED:
            if not same:
                return CommitDeleted(event.event_id)
            return Drop(event.event_id) if late else None
        if stored is None:  # an update of a connection that is gone can no longer be made
            return Drop(event.event_id) if late or int(intent["base"]) > 0 else None
        record = stored.record
        if same and event.event_id in record.event_ids:
            return Commit(
                event.tenant_id, event.connection_id, record.generation, stored.version, record.event_ids
            )
        if not same or stored.version > int(intent["base"]):
            return Drop(event.event_id)  # another write came first: this one's check-and-set fails
        return Drop(event.event_id) if late else None

    # -- the head writer ---------------------------------------------------------------------------

    async def _submit(self, op: Op) -> None:
        await self._submit_nowait(op)

    def _submit_nowait(self, op: Op) -> asyncio.Future[None]:
        """Queues `op` for the head writer (started on first use); the future says how it went."""
        loop = asyncio.get_running_loop()
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write_loop())
        done: asyncio.Future[None] = loop.create_future()
        done.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._queue.put_nowait(_Queued(op, done))
        return done

    async def _write_loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._apply([queued.op for queued in batch])
            except Exception as error:  # the callers hear of it (a bug: INTERNAL); the writer goes on
                if not isinstance(error, CredvaultError):
                    log.exception("writing the event log's head failed")
                for queued in batch:
                    if not queued.done.done():
                        queued.done.set_exception(error)
            else:
                for queued in batch:
                    if not queued.done.done():
                        queued.done.set_result(None)

    async def _apply(self, ops: list[Op]) -> None:
        stale = False
        for _ in range(HEAD_ATTEMPTS):
            head = self._head if self._head is not None and not stale else await self._read_head()
            stale = False
            new = head.copy()
            committed: list[Event] = []
            changed = [op.apply(new, committed) for op in ops]
            if not any(changed):
                return
            try:
                new.version = await self._documents.write(HEAD, new.document(), new.version, None)
            except ConflictError:
                stale = True  # another replica wrote first: read it and apply again
                continue
            for event in committed:
                self._observe(event)
            await self._publish(new)
            if len(new.open) >= 2 * PAGE:
                try:
                    await self._seal(new)
                except CredvaultError as error:  # the head keeps the events; sealed at a later write
                    log.warning("could not write a page of the event log (%s)", error.reason)
            return
        raise ConflictError("the event log is too busy; try again")

    async def _seal(self, head: Head) -> None:
        """Writes the oldest full page of a head already in Vault (so its events are final) to its own
        document, then queues its removal from the head."""
        events = [{k: v for k, v in e.items() if k != "generation"} for e in head.open[:PAGE]]
        text = json.dumps(events, separators=(",", ":"))  # one string: see Head.document
        await self._documents.write(page_name(head.sealed), {"events": text}, None, None)
        self._submit_nowait(Seal(head.sealed))

    async def _read_head(self, deadline: float | None = None) -> Head:
        found = await self._documents.read(HEAD, deadline)
        if found is not None:
            return Head.from_document(*found)
        head = Head.new()
        try:
            head.version = await self._documents.write(HEAD, head.document(), 0, deadline)
        except ConflictError:
            found = await self._documents.read(HEAD, deadline)
            assert found is not None
            return Head.from_document(*found)
        return head

    async def _publish(self, head: Head) -> None:
        """Makes `head` the newest known (if it is) and wakes the readers waiting for it."""
        async with self._changed:
            if self._head is None or head.version > self._head.version:
                known = self._head
                if known is not None and head.last > known.last:
                    missed = head.epoch != known.epoch or known.last + 1 < head.open_from
                    self._on_news(None if missed else head.events_after(known.last))
                self._head = head
                self._changed.notify_all()
