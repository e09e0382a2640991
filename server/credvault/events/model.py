"""Connection events: what changed, in the form kept in the event log (JSON in Vault) and handed to
watchers and webhooks, and the cursors watchers resume from. Never holds a credential."""

from __future__ import annotations

import base64
import binascii
import enum
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from credvault.domain.errors import FieldViolation, InvalidArgumentError, OutOfRangeError
from credvault.domain.model import Outcome, Status

CURSOR_VERSION = "v1"


class EventType(enum.Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"
    INVALIDATED = "INVALIDATED"
    RECOVERED = "RECOVERED"
    EXPIRING = "EXPIRING"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True)
class Event:
    """One change of one connection. `seq` is its place in the log (0 until it is committed there)."""

    event_id: str
    type: EventType
    tenant_id: str
    connection_id: str
    provider: str
    status: Status
    """The connection's status after the change (before it, for DELETED)."""
    occurred_at: datetime
    outcome: Outcome | None = None
    connect_session_id: str = ""
    seq: int = 0

    @classmethod
    def new(
        cls,
        type: EventType,
        tenant_id: str,
        connection_id: str,
        provider: str,
        status: Status,
        occurred_at: datetime,
        outcome: Outcome | None = None,
        connect_session_id: str = "",
    ) -> Event:
        return cls(
            event_id=f"evt_{uuid.uuid4().hex}",
            type=type,
            tenant_id=tenant_id,
            connection_id=connection_id,
            provider=provider,
            status=status,
            occurred_at=occurred_at,
            outcome=outcome,
            connect_session_id=connect_session_id,
        )

    def at(self, seq: int) -> Event:
        return replace(self, seq=seq)

    def cursor(self, epoch: str) -> str:
        return encode_cursor(epoch, self.seq, self.occurred_at)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form kept in the log and sent to webhooks (plus `seq` in the log)."""
        return {
            "event_id": self.event_id,
            "type": self.type.value,
            "tenant_id": self.tenant_id,
            "connection_id": self.connection_id,
            "provider": self.provider,
            "status": self.status.value,
            "occurred_at": self.occurred_at.isoformat(),
            "outcome": None if self.outcome is None else self.outcome.document(),
            "connect_session_id": self.connect_session_id,
            "seq": self.seq,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        outcome = data.get("outcome")
        return cls(
            event_id=str(data["event_id"]),
            type=EventType(data["type"]),
            tenant_id=str(data["tenant_id"]),
            connection_id=str(data["connection_id"]),
            provider=str(data["provider"]),
            status=Status(data["status"]),
            occurred_at=datetime.fromisoformat(data["occurred_at"]),
            outcome=Outcome.from_document(outcome) if outcome else None,
            connect_session_id=str(data.get("connect_session_id", "")),
            seq=int(data.get("seq", 0)),
        )


def status_event(before: Status, after: Status) -> EventType | None:
    """The event a check's verdict causes: INVALIDATED when it turns a connection INVALID, RECOVERED
    when it turns an INVALID one ACTIVE again; None when the status stays (or leaves UNVERIFIED)."""
    if after is before:
        return None
    if after is Status.INVALID:
        return EventType.INVALIDATED
    if after is Status.ACTIVE and before is Status.INVALID:
        return EventType.RECOVERED
    return None


@dataclass(frozen=True)
class Cursor:
    epoch: str
    """The id of the event log the cursor belongs to (a log made anew has another)."""
    seq: int
    occurred_at: datetime


def encode_cursor(epoch: str, seq: int, occurred_at: datetime) -> str:
    raw = f"{CURSOR_VERSION}:{epoch}:{seq}:{int(occurred_at.timestamp() * 1000)}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor:
    """INVALID_ARGUMENT when `text` is not a cursor this server gave out."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        version, epoch, seq, millis = raw.split(":")
        if version != CURSOR_VERSION or not epoch:
            raise ValueError(version)
        return Cursor(epoch, int(seq), datetime.fromtimestamp(int(millis) / 1000, UTC))
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError, OSError):
        raise InvalidArgumentError(
            [FieldViolation("after", "not a cursor from a ConnectionEvent of this server")]
        ) from None


def expired_cursor(why: str) -> OutOfRangeError:
    return OutOfRangeError(
        f"the cursor is {why}; list the connections again (ListConnections) and watch from now "
        "(an empty 'after')",
        reason="CURSOR_EXPIRED",
    )
