"""Expiry as time passes: one EXPIRING event `expiry_warning` seconds before a connection's
expires_at, and at expires_at the status EXPIRED and one EXPIRED event.

Each step is a check-and-set write of the connection's own record (the status, or the expiry the
warning was given for) together with its event (`credvault.events.changes`), so of any number of
replicas looking at the same moment only the one whose write lands emits. A new expiry (UpdateConnection
with new credentials) earns a new warning, because the record remembers which expires_at it warned
about.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from credvault.domain.connections import ConnectionStore
from credvault.domain.errors import ConflictError, NotFoundError
from credvault.domain.model import ConnectionRecord, Deadline, Status, utcnow
from credvault.events.changes import Changes
from credvault.events.model import EventType

log = logging.getLogger(__name__)


class Expiry:
    def __init__(
        self,
        store: ConnectionStore,
        changes: Changes,
        warning: float,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._changes = changes
        self._warning = timedelta(seconds=warning)
        self._clock = clock

    def moments(self, record: ConnectionRecord) -> list[datetime]:
        """The times something is still to happen to the connection: the warning, the expiry."""
        if record.expires_at is None:
            return []
        return [record.expires_at - self._warning, record.expires_at]

    def near(self, record: ConnectionRecord, now: datetime) -> bool:
        """True from the warning on: worth a `settle` (which reads the stored record to decide)."""
        return record.expires_at is not None and now >= record.expires_at - self._warning

    def due(self, record: ConnectionRecord, now: datetime) -> EventType | None:
        """What the stored record is owed as of `now`."""
        expires_at = record.expires_at
        if expires_at is None:
            return None
        if now >= expires_at:
            return None if record.status is Status.EXPIRED else EventType.EXPIRED
        if now >= expires_at - self._warning and record.expiry_warned_for != expires_at:
            return EventType.EXPIRING
        return None

    async def settle(self, tenant_id: str, connection_id: str, tries: int = 5) -> EventType | None:
        """Reads the connection and, if a warning or the expiry is due, records it and emits its
        event; returns what was emitted (None when nothing was due or another replica came first).
        A write that meets another (a label changed meanwhile) reads the record again."""
        for _ in range(tries):
            try:
                stored = await self._store.read(tenant_id, connection_id, None)
            except NotFoundError:
                return None
            record = stored.record
            now = self._clock()
            event = self.due(record, now)
            if event is None:
                return None
            changed = replace(record, expiry_warned_for=record.expires_at, updated_at=now)
            if event is EventType.EXPIRED:
                changed = replace(changed, status=Status.EXPIRED)
            try:
                await self._changes.replace(stored, changed, stored.credentials, event, Deadline(None))
            except ConflictError:
                continue  # changed meanwhile (maybe by another replica settling it): read it again
            log.info(
                "connection %s",
                "expired" if event is EventType.EXPIRED else "expires soon",
                extra={"tenant_id": tenant_id, "connection_id": connection_id, "provider": record.provider},
            )
            return event
        return None
