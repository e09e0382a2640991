"""The domain's value objects: connection records, verification outcomes, and the secret container."""

from __future__ import annotations

import enum
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from credvault.domain.errors import FieldViolation

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""Tenant and connection ids: a letter or digit, then letters, digits, '.', '_' or '-'; 128 at most.
No '/' and no leading '.', so an id is always exactly one path segment below credvault's prefix."""

ID_RULE = "1 to 128 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit"


def id_violation(name: str, value: str) -> FieldViolation | None:
    """The violation for an id field, or None when the id is valid."""
    if not value:
        return FieldViolation(name, f"required: {ID_RULE}")
    if not ID_PATTERN.fullmatch(value):
        return FieldViolation(name, f"must be {ID_RULE}")
    return None


class Status(enum.Enum):
    """A connection's state. Every connection is verified when it is made, so there is no "unverified"
    state here; the API keeps CONNECTION_STATUS_UNVERIFIED reserved for imports."""

    ACTIVE = "ACTIVE"
    INVALID = "INVALID"
    EXPIRED = "EXPIRED"


class Credentials(Mapping[str, str]):
    """A provider's secret fields. Read-only, and its repr never shows a value."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Credentials({', '.join(f'{k}=***' for k in sorted(self._values))})"

    __str__ = __repr__

    def reveal(self) -> dict[str, str]:
        """The plain values, for writing to Vault."""
        return dict(self._values)


@dataclass(frozen=True)
class Verdict:
    """What a provider's test call found. A rejection is an ordinary verdict, not an exception.

    `config` holds settings the check learnt (e.g. a cloud id resolved from a site) to store with the
    connection; `expires_at` an expiry the provider reported.
    """

    ok: bool
    reason: str
    http_status: int = 0
    hint: str = ""
    config: Mapping[str, str] = field(default_factory=dict)
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    """A verdict with the time it was reached, as kept on the connection."""

    ok: bool
    reason: str
    http_status: int
    hint: str
    checked_at: datetime

    @classmethod
    def of(cls, verdict: Verdict, checked_at: datetime) -> Outcome:
        return cls(verdict.ok, verdict.reason, verdict.http_status, verdict.hint, checked_at)

    def document(self) -> dict[str, Any]:
        """As kept in Vault, on the connection's record and in events."""
        return {
            "ok": self.ok,
            "reason": self.reason,
            "http_status": self.http_status,
            "hint": self.hint,
            "checked_at": self.checked_at.isoformat(),
        }

    @classmethod
    def from_document(cls, data: Mapping[str, Any]) -> Outcome:
        return cls(
            ok=bool(data["ok"]),
            reason=str(data["reason"]),
            http_status=int(data["http_status"]),
            hint=str(data["hint"]),
            checked_at=datetime.fromisoformat(data["checked_at"]),
        )


@dataclass(frozen=True)
class ConnectionRecord:
    """Everything credvault keeps about a connection except its credentials."""

    tenant_id: str
    connection_id: str
    provider: str
    config: Mapping[str, str]
    labels: Mapping[str, str]
    status: Status
    created_at: datetime
    updated_at: datetime
    last_verified_at: datetime | None = None
    expires_at: datetime | None = None
    last_outcome: Outcome | None = None
    expiry_warned_for: datetime | None = None
    """The expires_at the EXPIRING event was emitted for (a new expiry earns a new warning)."""
    next_check_at: datetime | None = field(default=None, compare=False)
    """When the scheduled re-check is due (computed from the schedule, never stored)."""
    generation: str = ""
    """Made anew at each creation, so a connection deleted and created again is told apart."""
    event_ids: tuple[str, ...] = ()
    """The ids of the last events this connection's changes caused, newest last: the event log finds
    there whether a change it was told of was made (see `credvault.journal`)."""

    def effective_status(self, now: datetime) -> Status:
        """The status as of `now`: a connection past its expiry is EXPIRED without asking anyone."""
        if self.expires_at is not None and now >= self.expires_at:
            return Status.EXPIRED
        return self.status

    def with_outcome(self, outcome: Outcome, now: datetime) -> ConnectionRecord:
        return replace(
            self,
            status=Status.ACTIVE if outcome.ok else Status.INVALID,
            last_outcome=outcome,
            last_verified_at=outcome.checked_at,
            updated_at=now,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored in Vault next to the credentials."""
        return {
            "provider": self.provider,
            "config": dict(self.config),
            "labels": dict(self.labels),
            "status": self.status.value,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "last_verified_at": _iso(self.last_verified_at),
            "expires_at": _iso(self.expires_at),
            "expiry_warned_for": _iso(self.expiry_warned_for),
            "last_outcome": None if self.last_outcome is None else self.last_outcome.document(),
            "generation": self.generation,
            "event_ids": list(self.event_ids),
        }

    @classmethod
    def from_dict(cls, tenant_id: str, connection_id: str, data: Mapping[str, Any]) -> ConnectionRecord:
        outcome = data.get("last_outcome")
        return cls(
            tenant_id=tenant_id,
            connection_id=connection_id,
            provider=data["provider"],
            config=dict(data.get("config") or {}),
            labels=dict(data.get("labels") or {}),
            status=Status(data["status"]),
            created_at=_parse(data["created_at"]),
            updated_at=_parse(data["updated_at"]),
            last_verified_at=_parse_optional(data.get("last_verified_at")),
            expires_at=_parse_optional(data.get("expires_at")),
            expiry_warned_for=_parse_optional(data.get("expiry_warned_for")),
            last_outcome=Outcome.from_document(outcome) if outcome else None,
            generation=str(data.get("generation") or ""),
            event_ids=tuple(data.get("event_ids") or ()),
        )


@dataclass(frozen=True)
class AuthHeaders:
    """What GetAuthHeaders hands out. Its repr hides the header values."""

    headers: Mapping[str, str] = field(repr=False)
    base_url: str
    expires_at: datetime | None
    query_params: Mapping[str, str] = field(default_factory=dict, repr=False)


ANSWER_MARGIN = 0.25
"""Seconds of a caller's deadline (at most an eighth of it) kept for carrying the answer back: work that
runs out of time gives up this much before the deadline, so the caller hears UNAVAILABLE and why rather
than DEADLINE_EXCEEDED. Measured on two cores: eight calls against a hung Vault, all giving up at the same
instant, answered up to 0.11 s after their budget (0.1 s was too little)."""


def answer_budget(seconds: float) -> float:
    """Of `seconds` left before a caller's deadline, those that work may use."""
    return max(seconds - min(ANSWER_MARGIN, seconds / 8), 0.0)


class Deadline:
    """The time a call must be answered by, from the caller's gRPC deadline (None: no deadline)."""

    __slots__ = ("_at",)

    def __init__(self, seconds: float | None) -> None:
        self._at = None if seconds is None else time.monotonic() + seconds

    def remaining(self, cap: float | None = None) -> float | None:
        """Seconds left, at most `cap`; None when neither the deadline nor a cap bounds it."""
        left = None if self._at is None else max(self._at - time.monotonic(), 0.0)
        if cap is None:
            return left
        return cap if left is None else min(left, cap)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _parse_optional(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
