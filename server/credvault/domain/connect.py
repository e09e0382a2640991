"""The Connect use cases: make and read Connect sessions (gRPC), and open, exchange and complete them
(the Connect page). Completing one calls the same create/update use cases as CreateConnection and
UpdateConnection, so the provider's check is exactly theirs. Knows nothing of gRPC, HTTP or Vault.

Single use across replicas: every change of a session is a check-and-set write of its Vault entry. A
submission first reserves the session (one more submission counted, busy for `submit_timeout`), so two
submissions on two replicas never run at once, and a completed session refuses everything after.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from yarl import URL

from credvault.domain.connect_session import (
    DEFAULT_TTL,
    MAX_TTL,
    MIN_TTL,
    ConnectSessionRecord,
    SessionState,
    digest,
    matches,
    new_secret,
    opened_elsewhere,
    require_pending,
    session_not_found,
    submission_busy,
)
from credvault.domain.errors import (
    ConflictError,
    CredvaultError,
    FailedPreconditionError,
    FieldViolation,
    InvalidArgumentError,
    NotFoundError,
)
from credvault.domain.model import ConnectionRecord, Deadline, id_violation, utcnow
from credvault.domain.service import CredentialService
from credvault.providers.registry import check_labels
from credvault.providers.spec import ProviderSpec

log = logging.getLogger(__name__)

KEEP_ENDED = timedelta(days=1)
"""How long GetConnectSession still answers for a session after it ended."""
SWEEP_INTERVAL = 3600.0
"""Seconds between two sweeps of ended sessions on one replica."""
Observer = Callable[[str], None]
"""Told of each session event (created, completed, expired) or submission outcome (metrics)."""


class SessionStore(Protocol):
    async def create(self, record: ConnectSessionRecord, deadline: float | None) -> int: ...

    async def delete_unchanged_since(self, cutoff: datetime) -> int: ...

    async def read(self, session_id: str, deadline: float | None) -> tuple[ConnectSessionRecord, int]: ...

    async def replace(self, record: ConnectSessionRecord, version: int, deadline: float | None) -> int: ...


@dataclass(frozen=True)
class ConnectPage:
    """Where the Connect page is and who may embed it or be sent back to."""

    base_url: str
    """The public URL `connect_url` starts with, without a trailing slash."""
    allowed_origins: tuple[str, ...]


def session_path(session_id: str) -> str:
    """The page's path of a session (the connect_url without its token)."""
    return f"/connect/{session_id}"


class ConnectService:
    def __init__(
        self,
        connections: CredentialService,
        sessions: SessionStore,
        page: ConnectPage | None,
        submit_timeout: float,
        clock: Callable[[], datetime] = utcnow,
        observe_session: Observer = lambda _: None,
        observe_submission: Observer = lambda _: None,
    ) -> None:
        self._connections = connections
        self._sessions = sessions
        self.page = page
        self._submit_timeout = submit_timeout
        self._clock = clock
        self._observe_session = observe_session
        self._observe_submission = observe_submission

    # -- gRPC ----------------------------------------------------------------------------------------

    async def create_session(
        self,
        tenant_id: str,
        providers: Sequence[str],
        connection_id: str,
        labels: Mapping[str, str],
        return_url: str,
        ttl: timedelta | None,
        deadline: Deadline,
    ) -> tuple[ConnectSessionRecord, str]:
        """Makes a session; returns it and its connect_url (the only time the link's secret exists)."""
        if self.page is None:
            raise FailedPreconditionError(
                "this server has no Connect page: set CREDVAULT_CONNECT_LISTEN to serve one",
                reason="CONNECT_DISABLED",
            )
        known = {spec.id for spec in self._connections.providers()}
        wanted = tuple(dict.fromkeys(providers))
        violations = [v for v in (id_violation("tenant_id", tenant_id),) if v]
        if connection_id:
            violations += [v for v in (id_violation("connection_id", connection_id),) if v]
        violations += [
            FieldViolation(f"providers[{i}]", "not a provider id from ListProviders")
            for i, p in enumerate(wanted)
            if p not in known
        ]
        violations += check_labels(labels)
        if return_url and not self._allowed_return(return_url):
            violations.append(
                FieldViolation(
                    "return_url",
                    "must be an http(s) URL whose origin is one of CREDVAULT_CONNECT_ALLOWED_ORIGINS",
                )
            )
        ttl = DEFAULT_TTL if ttl is None else ttl
        if not MIN_TTL <= ttl <= MAX_TTL:
            violations.append(FieldViolation("ttl", "must be from 1 s to 24 h (unset: 30 min)"))
        if violations:
            raise InvalidArgumentError(violations)
        existing = await self._existing(tenant_id, connection_id, deadline) if connection_id else None
        if existing is not None:
            if wanted and existing.provider not in wanted:
                raise InvalidArgumentError(
                    [FieldViolation("providers", f"connection {connection_id} is a {existing.provider} one")]
                )
            wanted = (existing.provider,)
        now = self._clock()
        secret = new_secret()
        record = ConnectSessionRecord(
            session_id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            providers=wanted or tuple(sorted(known)),
            connection_id=connection_id or str(uuid.uuid4()),
            connection_id_given=bool(connection_id),
            reconnect=existing is not None,
            labels=dict(labels),
            return_url=return_url,
            state=SessionState.PENDING,
            created_at=now,
            expires_at=now + ttl,
            link_hash=digest(secret),
        )
        await self._sessions.create(record, deadline.remaining())
        self._observe_session("created")
        log.info(
            "created connect session",
            extra={"tenant_id": tenant_id, "session_id": record.session_id, "reconnect": record.reconnect},
        )
        url = f"{self.page.base_url}{session_path(record.session_id)}?token={secret}"
        return record, url

    async def get_session(self, tenant_id: str, session_id: str, deadline: Deadline) -> ConnectSessionRecord:
        violations = [
            v for v in (id_violation("tenant_id", tenant_id), id_violation("session_id", session_id)) if v
        ]
        if violations:
            raise InvalidArgumentError(violations)
        record, version = await self._read(session_id, deadline)
        if record.tenant_id != tenant_id:
            raise session_not_found()
        return await self._settled(record, version, deadline)

    # -- the page ------------------------------------------------------------------------------------

    async def landing(self, session_id: str, token: str, deadline: Deadline) -> ConnectSessionRecord:
        """The session a link names, for its landing page. Spends nothing (link previews and mail
        scanners open links); at most records that the session has expired."""
        record, version = await self._read(session_id, deadline)
        if not matches(token, record.link_hash):
            raise session_not_found()
        record = await self._settled(record, version, deadline)
        require_pending(record)
        if record.browser_hash:
            raise opened_elsewhere()
        return record

    async def exchange(
        self, session_id: str, token: str, deadline: Deadline
    ) -> tuple[ConnectSessionRecord, str]:
        """Spends the link: returns the secret of the browser cookie that replaces it."""
        record, version = await self._read(session_id, deadline)
        if not matches(token, record.link_hash):
            raise session_not_found()
        record = await self._settled(record, version, deadline)
        require_pending(record)
        if record.browser_hash:
            raise opened_elsewhere()
        secret = new_secret()
        record = replace(record, browser_hash=digest(secret))
        try:
            await self._sessions.replace(record, version, deadline.remaining())
        except ConflictError:
            raise opened_elsewhere() from None
        return record, secret

    async def resume(
        self, session_id: str, cookie: str, deadline: Deadline, completed: bool = False
    ) -> ConnectSessionRecord:
        """The session the browser's cookie is for; `completed` allows a completed one (the done page)."""
        record, version = await self._read(session_id, deadline)
        if not matches(cookie, record.browser_hash):
            raise session_not_found()
        record = await self._settled(record, version, deadline)
        if not (completed and record.state is SessionState.COMPLETED):
            require_pending(record)
        return record

    def providers(self, record: ConnectSessionRecord) -> list[ProviderSpec]:
        """The session's providers that this server has, in the session's order."""
        specs = {spec.id: spec for spec in self._connections.providers()}
        return [specs[p] for p in record.providers if p in specs]

    async def current_config(self, record: ConnectSessionRecord, deadline: Deadline) -> Mapping[str, str]:
        """The non-secret settings of the connection a reconnect replaces the credentials of."""
        if not record.reconnect:
            return {}
        try:
            return (await self._connections.get(record.tenant_id, record.connection_id, deadline)).config
        except NotFoundError:
            return {}

    async def submit(
        self,
        session_id: str,
        cookie: str,
        provider: str,
        credentials: Mapping[str, str],
        config: Mapping[str, str],
    ) -> ConnectSessionRecord:
        """Checks and stores what the person entered, through the create/update use case. Raises the
        use case's error when that fails (the session stays pending until its submissions run out)."""
        deadline = Deadline(self._submit_timeout)
        record, version = await self._read(session_id, deadline)
        if not matches(cookie, record.browser_hash):
            raise session_not_found()
        record = await self._settled(record, version, deadline)
        require_pending(record)
        if provider not in record.providers:
            raise session_not_found()
        now = self._clock()
        if record.busy_until is not None and record.busy_until > now:
            raise submission_busy()
        reserved = replace(
            record,
            submissions=record.submissions + 1,
            busy_until=now + timedelta(seconds=self._submit_timeout + 2),
        )
        try:
            version = await self._sessions.replace(reserved, version, deadline.remaining())
        except ConflictError:
            raise submission_busy() from None
        try:
            made = await self._connect(reserved, provider, credentials, config, deadline)
        except CredvaultError as error:
            self._observe_submission(error.code)
            after = replace(reserved, busy_until=None)
            if after.effective_state(self._clock()) is SessionState.EXPIRED:
                after = after.with_state(SessionState.EXPIRED)
                self._observe_session("expired")
            with contextlib.suppress(ConflictError):  # another replica marked it expired meanwhile
                await self._sessions.replace(after, version, deadline.remaining())
            raise
        self._observe_submission("OK")
        done = replace(
            reserved.with_state(SessionState.COMPLETED),
            connection_id=made.connection_id,
            completed_at=self._clock(),
            provider=made.provider,
        )
        try:
            await self._sessions.replace(done, version, deadline.remaining())
        except ConflictError:  # marked expired meanwhile; the connection is made, so it completed
            _, latest = await self._sessions.read(session_id, deadline.remaining())
            await self._sessions.replace(done, latest, deadline.remaining())
        self._observe_session("completed")
        log.info(
            "completed connect session",
            extra={
                "tenant_id": done.tenant_id,
                "session_id": session_id,
                "connection_id": done.connection_id,
            },
        )
        return done

    async def sweep(self) -> int:
        """Forgets sessions that ended at least KEEP_ENDED ago: whatever their state, one unchanged for
        MAX_TTL + KEEP_ENDED has ended that long. Safe on every replica at once."""
        removed = await self._sessions.delete_unchanged_since(self._clock() - MAX_TTL - KEEP_ENDED)
        if removed:
            log.info("removed %d ended connect sessions", removed)
        return removed

    # -- helpers -------------------------------------------------------------------------------------

    async def _connect(
        self,
        record: ConnectSessionRecord,
        provider: str,
        credentials: Mapping[str, str],
        config: Mapping[str, str],
        deadline: Deadline,
    ) -> ConnectionRecord:
        if record.reconnect:
            return await self._connections.update(
                record.tenant_id,
                record.connection_id,
                {"credentials": credentials, "config": config},
                deadline,
                connect_session_id=record.session_id,
            )
        return await self._connections.create(
            tenant_id=record.tenant_id,
            connection_id=record.connection_id,
            provider=provider,
            credentials=credentials,
            config=config,
            labels=record.labels,
            deadline=deadline,
            connect_session_id=record.session_id,
        )

    async def _existing(
        self, tenant_id: str, connection_id: str, deadline: Deadline
    ) -> ConnectionRecord | None:
        try:
            return await self._connections.get(tenant_id, connection_id, deadline)
        except NotFoundError:
            return None

    async def _read(self, session_id: str, deadline: Deadline) -> tuple[ConnectSessionRecord, int]:
        if id_violation("session_id", session_id):
            raise session_not_found()
        return await self._sessions.read(session_id, deadline.remaining())

    async def _settled(
        self, record: ConnectSessionRecord, version: int, deadline: Deadline
    ) -> ConnectSessionRecord:
        """The record with its effective state. The replica that first sees a pending session past its
        expiry records it as EXPIRED (once, by check-and-set), so the metric counts it once."""
        state = record.effective_state(self._clock())
        if state is record.state:
            return record
        expired = record.with_state(state)
        try:
            await self._sessions.replace(expired, version, deadline.remaining())
        except ConflictError:
            return expired  # another replica (or request) recorded it, or changed it meanwhile
        self._observe_session("expired")
        return expired

    def _allowed_return(self, return_url: str) -> bool:
        assert self.page is not None
        try:
            url = URL(return_url)
        except (TypeError, ValueError):
            return False
        if url.scheme not in ("http", "https") or not url.host or url.user or url.password:
            return False
        return str(url.origin()) in self.page.allowed_origins
