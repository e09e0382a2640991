"""The head of the event log (one KV v2 document, `_events/head`) and the changes made to it.

The head holds the log's identity (`epoch`), the oldest event still kept (`first`), how many full pages
of 32 events have been moved out to their own documents (`sealed`), the newest events (`open`, at most
two pages), and the intents (`pending`): events of changes that may have been made but are not yet in
the log. Every change of the head is a check-and-set write of the whole document; each `Op` below is
idempotent, so a write that is refused because another replica wrote first is applied again to the
head read anew.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from credvault.events.model import Event, EventType

PAGE = 32
"""Events per sealed page."""


@dataclass
class Head:
    epoch: str
    first: int = 1
    sealed: int = 0
    open: list[dict[str, Any]] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    version: int = 0
    """The KV version this head was read at (0: not written yet)."""

    @classmethod
    def new(cls) -> Head:
        return cls(epoch=uuid.uuid4().hex[:16])

    @classmethod
    def from_document(cls, data: dict[str, Any], version: int) -> Head:
        return cls(
            epoch=str(data["epoch"]),
            first=int(data["first"]),
            sealed=int(data["sealed"]),
            open=json.loads(data["open"]),
            pending=json.loads(data["pending"]),
            version=version,
        )

    def document(self) -> dict[str, Any]:
        """The KV data. Events and intents go as JSON text: Vault bounds the number of strings in a
        request's JSON (OpenBao: 1,000), which a head of 64 events would pass."""
        return {
            "epoch": self.epoch,
            "first": self.first,
            "sealed": self.sealed,
            "open": json.dumps(self.open, separators=(",", ":")),
            "pending": json.dumps(self.pending, separators=(",", ":")),
        }

    def copy(self) -> Head:
        return Head(self.epoch, self.first, self.sealed, list(self.open), list(self.pending), self.version)

    @property
    def open_from(self) -> int:
        """The seq of the first event in `open`."""
        return self.sealed * PAGE + 1

    @property
    def last(self) -> int:
        """The seq of the newest event (0: none yet)."""
        return self.open_from + len(self.open) - 1

    def events_after(self, seq: int) -> list[Event]:
        """The events in `open` after `seq`."""
        return [Event.from_dict(e) for e in self.open[max(seq + 1 - self.open_from, 0) :]]

    def has(self, event_id: str) -> bool:
        return any(e["event_id"] == event_id for e in self.open) or self._pending(event_id) is not None

    def _pending(self, event_id: str) -> dict[str, Any] | None:
        return next((p for p in self.pending if p["event"]["event_id"] == event_id), None)

    def _append(self, intent: dict[str, Any], committed: list[Event]) -> None:
        self.pending.remove(intent)
        entry = {**intent["event"], "seq": self.last + 1, "generation": intent["generation"]}
        self.open.append(entry)
        committed.append(Event.from_dict(entry))


class Op:
    """One change of the head; `apply` says whether it changed anything and adds the events it moved
    into the log to `committed`."""

    def apply(self, head: Head, committed: list[Event]) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class Intend(Op):
    """Records the intent of a change: its event, the connection's generation and the KV version the
    change's check-and-set write names (`base`), and until when (Unix seconds) the writer may still be
    sending it."""

    event: Event
    generation: str
    base: int
    until: float
    at: float

    def apply(self, head: Head, committed: list[Event]) -> bool:
        if head.has(self.event.event_id):
            return False
        head.pending.append(
            {
                "event": self.event.to_dict(),
                "generation": self.generation,
                "base": self.base,
                "until": self.until,
                "at": self.at,
            }
        )
        return True


@dataclass(frozen=True)
class Commit(Op):
    """The connection's record was seen (or written) at `version` of `generation`, carrying the events
    `event_ids`: their intents join the log in that order, and intents that can no longer be made
    (another write came first) are dropped."""

    tenant_id: str
    connection_id: str
    generation: str
    version: int
    event_ids: tuple[str, ...]

    def apply(self, head: Head, committed: list[Event]) -> bool:
        changed = False
        for event_id in self.event_ids:
            intent = head._pending(event_id)
            if intent is not None and intent["generation"] == self.generation:
                head._append(intent, committed)
                changed = True
        for intent in [p for p in head.pending if self._about(p)]:
            if intent["event"]["type"] == EventType.DELETED.value:
                continue
            if intent["generation"] != self.generation or intent["base"] < self.version:
                head.pending.remove(intent)  # its check-and-set write can no longer succeed
                changed = True
        return changed

    def _about(self, intent: dict[str, Any]) -> bool:
        event = intent["event"]
        return bool(event["tenant_id"] == self.tenant_id and event["connection_id"] == self.connection_id)


@dataclass(frozen=True)
class CommitDeleted(Op):
    """The connection's `generation` is gone: the intent `event_id` (a DELETED) joins the log, unless a
    DELETED of the same generation did already (two deletes raced; one event for one deletion)."""

    event_id: str

    def apply(self, head: Head, committed: list[Event]) -> bool:
        intent = head._pending(self.event_id)
        if intent is None:
            return False
        event = intent["event"]
        same = [
            e
            for e in head.open
            if e["type"] == EventType.DELETED.value
            and e["tenant_id"] == event["tenant_id"]
            and e["connection_id"] == event["connection_id"]
            and e.get("generation") == intent["generation"]
        ]
        if same:
            head.pending.remove(intent)
        else:
            head._append(intent, committed)
        return True


@dataclass(frozen=True)
class Drop(Op):
    """The change of intent `event_id` was not made."""

    event_id: str

    def apply(self, head: Head, committed: list[Event]) -> bool:
        intent = head._pending(self.event_id)
        if intent is None:
            return False
        head.pending.remove(intent)
        return True


@dataclass(frozen=True)
class Seal(Op):
    """Page `page` (written to its own document already) leaves the head."""

    page: int

    def apply(self, head: Head, committed: list[Event]) -> bool:
        if head.sealed != self.page or len(head.open) < PAGE:
            return False
        head.open = head.open[PAGE:]
        head.sealed += 1
        return True


@dataclass(frozen=True)
class Prune(Op):
    """Events up to the end of page `page` are past the retention: they are no longer kept."""

    page: int

    def apply(self, head: Head, committed: list[Event]) -> bool:
        first = (self.page + 1) * PAGE + 1
        if head.first >= first or self.page >= head.sealed:
            return False
        head.first = first
        return True
