"""A Connect session: a link that lets a person connect their own account through the Connect page.

Only hashes of the session's two secrets are kept: the link's (the `token` in `connect_url`) and the
browser's (the cookie the link is exchanged for on the first POST). Both are 256-bit random values,
so a plain SHA-256 is as strong as any slow hash here.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from credvault.domain.errors import ConflictError, FailedPreconditionError, NotFoundError

MAX_SUBMISSIONS = 10
"""Form submissions a session allows; then it is spent (EXPIRED)."""
DEFAULT_TTL = timedelta(minutes=30)
MIN_TTL = timedelta(seconds=1)
MAX_TTL = timedelta(hours=24)


class SessionState(enum.Enum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    EXPIRED = "EXPIRED"


def new_secret() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str, known: str) -> bool:
    """True when `secret` hashes to `known` (compared in constant time; an empty `known` never matches)."""
    return bool(known) and hmac.compare_digest(digest(secret), known)


@dataclass(frozen=True)
class ConnectSessionRecord:
    """What is kept of a session in Vault. Never holds a secret, only their hashes."""

    session_id: str
    tenant_id: str
    providers: tuple[str, ...]
    connection_id: str
    """The connection to make (given, or generated at creation) or to reconnect."""
    connection_id_given: bool
    """False when credvault generated `connection_id`: it is shown only once the session completes."""
    reconnect: bool
    labels: Mapping[str, str]
    return_url: str
    state: SessionState
    created_at: datetime
    expires_at: datetime
    link_hash: str = field(repr=False)
    browser_hash: str = field(default="", repr=False)
    """Set when the link is exchanged for a browser cookie; from then on the link alone is spent."""
    submissions: int = 0
    busy_until: datetime | None = None
    """While a submission is being checked with the provider (on any replica), others wait."""
    completed_at: datetime | None = None
    provider: str = ""
    """The provider of the connection made, once completed."""

    def effective_state(self, now: datetime) -> SessionState:
        """The state as of `now`: a pending session past its expiry or out of submissions is EXPIRED."""
        if self.state is SessionState.PENDING and (
            now >= self.expires_at or self.submissions >= MAX_SUBMISSIONS
        ):
            return SessionState.EXPIRED
        return self.state

    @property
    def submissions_left(self) -> int:
        return max(MAX_SUBMISSIONS - self.submissions, 0)

    @property
    def shown_connection_id(self) -> str:
        """The connection id a caller may see: the given one, or the made one once completed."""
        if self.connection_id_given or self.state is SessionState.COMPLETED:
            return self.connection_id
        return ""

    def with_state(self, state: SessionState) -> ConnectSessionRecord:
        return replace(self, state=state, busy_until=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "providers": list(self.providers),
            "connection_id": self.connection_id,
            "connection_id_given": self.connection_id_given,
            "reconnect": self.reconnect,
            "labels": dict(self.labels),
            "return_url": self.return_url,
            "state": self.state.value,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "link_hash": self.link_hash,
            "browser_hash": self.browser_hash,
            "submissions": self.submissions,
            "busy_until": _iso(self.busy_until),
            "completed_at": _iso(self.completed_at),
            "provider": self.provider,
        }

    @classmethod
    def from_dict(cls, session_id: str, data: Mapping[str, Any]) -> ConnectSessionRecord:
        return cls(
            session_id=session_id,
            tenant_id=str(data["tenant_id"]),
            providers=tuple(data["providers"]),
            connection_id=str(data["connection_id"]),
            connection_id_given=bool(data["connection_id_given"]),
            reconnect=bool(data["reconnect"]),
            labels=dict(data.get("labels") or {}),
            return_url=str(data.get("return_url") or ""),
            state=SessionState(data["state"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            expires_at=datetime.fromisoformat(data["expires_at"]),
            link_hash=str(data["link_hash"]),
            browser_hash=str(data.get("browser_hash") or ""),
            submissions=int(data.get("submissions") or 0),
            busy_until=_parse(data.get("busy_until")),
            completed_at=_parse(data.get("completed_at")),
            provider=str(data.get("provider") or ""),
        )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: str | None) -> datetime | None:
    return None if not value else datetime.fromisoformat(value)


# The reasons a session can't be used, as the page and the RPCs report them.


def require_pending(record: ConnectSessionRecord) -> None:
    if record.state is SessionState.COMPLETED:
        raise FailedPreconditionError(
            "this link was already used to connect an account; ask for a new link to connect again",
            reason="CONNECT_SESSION_COMPLETED",
        )
    if record.state is SessionState.EXPIRED:
        if record.submissions >= MAX_SUBMISSIONS:
            raise FailedPreconditionError(
                f"this link was tried {MAX_SUBMISSIONS} times without success and no longer works; "
                "ask for a new link",
                reason="CONNECT_SESSION_SPENT",
            )
        raise FailedPreconditionError(
            "this link has expired; ask for a new link", reason="CONNECT_SESSION_EXPIRED"
        )


def session_not_found() -> NotFoundError:
    return NotFoundError(
        "no such Connect session, or the link is incomplete", reason="CONNECT_SESSION_NOT_FOUND"
    )


def opened_elsewhere() -> FailedPreconditionError:
    return FailedPreconditionError(
        "this link was already opened in another browser; continue there, or ask for a new link",
        reason="CONNECT_LINK_ALREADY_OPENED",
    )


def submission_busy() -> ConflictError:
    return ConflictError(
        "the details you sent just before are still being checked; wait a moment and try again",
        reason="CONNECT_SUBMISSION_IN_PROGRESS",
    )
