"""The one way a connection is changed: each write together with its event (see `credvault.events.journal`),
so the use cases (CRUD, checks, re-checks, expiry, Connect) never write a connection without telling
watchers, nor tell them of a change that was not made."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from credvault.domain.connections import ConnectionStore, StoredConnection, not_found
from credvault.domain.model import ConnectionRecord, Credentials, Deadline
from credvault.events.journal import Journal
from credvault.events.model import Event, EventType

Arm = Callable[[ConnectionRecord, Deadline], Awaitable[None]]
"""Registers a record's expiry moments (`credvault.domain.expiry_pass`) before the write that brings them."""


class Changes:
    def __init__(
        self,
        store: ConnectionStore,
        journal: Journal,
        clock: Callable[[], datetime],
        arm: Arm | None = None,
    ) -> None:
        self._store = store
        self._journal = journal
        self._clock = clock
        self._arm = arm

    async def create(
        self,
        record: ConnectionRecord,
        credentials: Credentials,
        deadline: Deadline,
        connect_session_id: str = "",
    ) -> ConnectionRecord:
        """Stores a new connection (ALREADY_EXISTS when the id is taken) with its CREATED event;
        returns the record as stored (a new generation, the event's id)."""
        record = replace(record, generation=uuid.uuid4().hex)
        event = self.event(EventType.CREATED, record, connect_session_id)
        record = replace(record, event_ids=(event.event_id,))
        stored = record
        if self._arm is not None and record.expires_at is not None:
            await self._arm(record, deadline)

        async def write() -> int:
            return await self._store.create(stored, credentials, deadline.remaining())

        await self._journal.change(event, record.generation, 0, write, deadline, record.event_ids)
        return record

    async def replace(
        self,
        stored: StoredConnection,
        record: ConnectionRecord,
        credentials: Credentials,
        change: EventType | None,
        deadline: Deadline,
        connect_session_id: str = "",
    ) -> int:
        """Replaces the `stored` connection by `record` (check-and-set; ABORTED when another write came
        first) with the event `change`; None for a write that changes nothing a watcher cares about
        (a check that found what the last one found). Returns the version written."""
        if self._arm is not None and record.expires_at not in (None, stored.record.expires_at):
            await self._arm(record, deadline)
        if change is None:
            return await self._store.replace(record, credentials, stored.version, deadline.remaining())
        event = self.event(change, record, connect_session_id)
        record = replace(record, event_ids=Journal.carried(record.event_ids, event))
        written = record

        async def write() -> int:
            return await self._store.replace(written, credentials, stored.version, deadline.remaining())

        return await self._journal.change(
            event, record.generation, stored.version, write, deadline, record.event_ids
        )

    async def delete(self, stored: StoredConnection, deadline: Deadline) -> None:
        """Deletes the connection with its DELETED event; NOT_FOUND when it is gone already."""
        record = stored.record
        event = self.event(EventType.DELETED, record)

        async def delete() -> int:
            if not await self._store.delete(record.tenant_id, record.connection_id, deadline.remaining()):
                raise not_found(record.tenant_id, record.connection_id)
            return 0

        await self._journal.change(event, record.generation, stored.version, delete, deadline)

    def event(self, change: EventType, record: ConnectionRecord, connect_session_id: str = "") -> Event:
        """The event of `change` to `record` (the record after it; before it, for DELETED)."""
        now = self._clock()
        checked = change in (EventType.INVALIDATED, EventType.RECOVERED)
        timeless = change in (EventType.DELETED, EventType.EXPIRING, EventType.EXPIRED)
        return Event.new(
            change,
            record.tenant_id,
            record.connection_id,
            record.provider,
            record.effective_status(now),
            now if timeless else record.updated_at,
            outcome=record.last_outcome if checked else None,
            connect_session_id=connect_session_id,
        )
