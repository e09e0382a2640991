"""The use cases behind the RPCs. Knows nothing of gRPC; raises credvault errors."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime

import httpx

from credvault.domain.cache import HeaderCache, Key
from credvault.domain.connections import ConnectionStore, StoredConnection
from credvault.domain.errors import (
    AlreadyExistsError,
    CredvaultError,
    FailedPreconditionError,
    FieldViolation,
    InvalidArgumentError,
    NotFoundError,
)
from credvault.domain.model import (
    AuthHeaders,
    ConnectionRecord,
    Deadline,
    Outcome,
    Status,
    Verdict,
    id_violation,
    utcnow,
)
from credvault.domain.refresh import HeaderRefresh
from credvault.domain.verification import VerificationObserver, Verifier, expired_verdict, rejected_secret
from credvault.events.changes import Arm, Changes
from credvault.events.journal import Journal
from credvault.events.model import EventType, status_event
from credvault.providers.authorizer import Authorizer, TokenCache
from credvault.providers.registry import ProviderRegistry, check_labels
from credvault.providers.spec import ProviderSpec

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
UPDATABLE = ("credentials", "config", "labels")
Gate = Callable[[ConnectionRecord], Awaitable[None]]
"""Awaited by a scheduled check once the record is read and before the provider is asked; it may
wait (the provider's budget) or raise to call the check off."""
NextCheck = Callable[[ConnectionRecord, datetime], datetime | None]


class CredentialService:
    def __init__(
        self,
        registry: ProviderRegistry,
        store: ConnectionStore,
        http: httpx.AsyncClient,
        verify_timeout: float,
        max_verifications: int = 64,
        clock: Callable[[], datetime] = utcnow,
        observe_verification: VerificationObserver = lambda *_: None,
        cache: HeaderCache | None = None,
        next_check: NextCheck = lambda _record, _now: None,
        *,
        journal: Journal,
        tokens: TokenCache | None = None,
        arm_expiry: Arm | None = None,
    ) -> None:
        self._registry = registry
        self._next_check = next_check
        self._cache = cache if cache is not None else HeaderCache(size=0, ttl=0)
        self._refresh = HeaderRefresh(self._cache, self._load_headers)
        self._store = store
        self._verifier = Verifier(
            registry,
            http,
            verify_timeout,
            max_verifications,
            clock,
            observe_verification,
            Authorizer(registry, http, tokens or TokenCache()),  # OAuth tokens: in memory, per replica
        )
        self._changes = Changes(store, journal, clock, arm_expiry)
        self._clock = clock

    async def close(self) -> None:
        """Stops the background re-reads of cached headers (at shutdown, once calls have drained)."""
        await self._refresh.close()

    def providers(self) -> list[ProviderSpec]:
        return self._registry.all()

    def base_url_template(self, spec: ProviderSpec) -> str:
        """The provider's own, public template. An operator's override is not shown to callers: it may
        name internal proxies or hosts."""
        return spec.base_url_template

    async def create(
        self,
        tenant_id: str,
        connection_id: str,
        provider: str,
        credentials: Mapping[str, str],
        config: Mapping[str, str],
        labels: Mapping[str, str],
        deadline: Deadline,
        connect_session_id: str = "",
    ) -> ConnectionRecord:
        """Verifies the credentials with the provider and stores them only if they are accepted
        (with a CREATED event naming `connect_session_id` when a Connect session made it)."""
        violations = _id_violations(tenant_id, connection_id or "generated")
        violations += check_labels(labels)
        if not provider:
            violations.append(FieldViolation("provider", "required: a provider id from ListProviders"))
        if violations:
            raise InvalidArgumentError(violations)
        spec = self._registry.get(provider)
        secret, normalised = self._registry.check_input(spec, credentials, config)
        connection_id = connection_id or str(uuid.uuid4())
        if await self._store.exists(tenant_id, connection_id, deadline.remaining()):
            raise AlreadyExistsError(f"connection {connection_id} already exists for tenant {tenant_id}")
        outcome, learnt = await self._verifier.checked(spec, secret, normalised, deadline)
        now = self._clock()
        record = ConnectionRecord(
            tenant_id=tenant_id,
            connection_id=connection_id,
            provider=spec.id,
            config=learnt.config,
            labels=dict(labels),
            status=Status.ACTIVE,
            created_at=now,
            updated_at=now,
            last_verified_at=outcome.checked_at,
            expires_at=learnt.expires_at,
            last_outcome=outcome,
        )
        record = await self._changes.create(record, secret, deadline, connect_session_id)
        log.info(
            "created connection",
            extra={"tenant_id": tenant_id, "connection_id": connection_id, "provider": spec.id},
        )
        return self._current(record)

    async def get(self, tenant_id: str, connection_id: str, deadline: Deadline) -> ConnectionRecord:
        return self._current((await self._read(tenant_id, connection_id, deadline)).record)

    async def list(
        self, tenant_id: str, provider: str, page_size: int, page_token: str, deadline: Deadline
    ) -> tuple[list[ConnectionRecord], str]:
        violations = [v for v in [id_violation("tenant_id", tenant_id)] if v]
        if page_size < 0 or page_size > MAX_PAGE_SIZE:
            violations.append(
                FieldViolation("page_size", f"must be 0 to {MAX_PAGE_SIZE} (0: {DEFAULT_PAGE_SIZE})")
            )
        after = _decode_page_token(tenant_id, provider, page_token)
        if after is None:
            violations.append(
                FieldViolation("page_token", "not a token from a previous page of this listing")
            )
        if provider and not violations:
            self._registry.get(provider)
        if violations:
            raise InvalidArgumentError(violations)
        ids = [i for i in await self._store.list_ids(tenant_id, deadline.remaining()) if i > (after or "")]
        page = ids[: page_size or DEFAULT_PAGE_SIZE]
        reads = await asyncio.gather(*(self._read_if_present(tenant_id, i, deadline) for i in page))
        records = [self._current(s.record) for s in reads if s is not None]
        if provider:
            records = [r for r in records if r.provider == provider]
        more = len(ids) > len(page)
        return records, _encode_page_token(tenant_id, provider, page[-1]) if more else ""

    async def update(
        self,
        tenant_id: str,
        connection_id: str,
        changes: Mapping[str, Mapping[str, str]],
        deadline: Deadline,
        connect_session_id: str = "",
    ) -> ConnectionRecord:
        """Applies `changes` (a subset of credentials/config/labels, each replaced whole). New
        credentials or config are verified first; a rejected change leaves the connection as it was."""
        violations = _id_violations(tenant_id, connection_id)
        if not changes:
            violations.append(
                FieldViolation("update_mask", "nothing to update: give credentials, config or labels")
            )
        if "labels" in changes:
            violations += check_labels(changes["labels"])
        if violations:
            raise InvalidArgumentError(violations)
        stored = await self._read(tenant_id, connection_id, deadline)
        record, secret = stored.record, stored.credentials
        now = self._clock()
        if "credentials" in changes or "config" in changes:
            spec = self._spec_of(record)
            secret, normalised = self._registry.check_input(
                spec,
                changes.get("credentials", secret),
                changes.get("config", record.config),
            )
            outcome, learnt = await self._verifier.checked(spec, secret, normalised, deadline)
            record = replace(record, config=learnt.config, expires_at=learnt.expires_at).with_outcome(
                outcome, now
            )
        if "labels" in changes:
            record = replace(record, labels=dict(changes["labels"]))
        record = replace(record, updated_at=now)
        try:
            await self._changes.replace(
                stored, record, secret, EventType.UPDATED, deadline, connect_session_id
            )
        finally:
            self._cache.invalidate((tenant_id, connection_id))
        log.info(
            "updated connection",
            extra={"tenant_id": tenant_id, "connection_id": connection_id, "changed": sorted(changes)},
        )
        return self._current(record)

    async def delete(
        self, tenant_id: str, connection_id: str, allow_missing: bool, deadline: Deadline
    ) -> None:
        try:
            stored = await self._read(tenant_id, connection_id, deadline)
        except NotFoundError:
            if allow_missing:
                return
            raise
        try:
            await self._changes.delete(stored, deadline)
        except NotFoundError:
            if not allow_missing:
                raise
            return
        finally:
            self._cache.invalidate((tenant_id, connection_id))
        log.info("deleted connection", extra={"tenant_id": tenant_id, "connection_id": connection_id})

    async def verify(
        self, tenant_id: str, connection_id: str, deadline: Deadline, gate: Gate | None = None
    ) -> ConnectionRecord:
        """Checks the stored credentials again and records the verdict; a rejection is recorded, not
        raised. Raises only when the check could not be made (or `gate` called it off)."""
        stored = await self._read(tenant_id, connection_id, deadline)
        self._cache.invalidate((tenant_id, connection_id))  # what was just read is fresher
        spec = self._spec_of(stored.record)
        current = self._current(stored.record)
        if current.status is Status.EXPIRED:  # no point asking the provider about an expired token
            return replace(current, last_outcome=Outcome.of(expired_verdict(current), self._clock()))
        if gate is not None:
            await gate(stored.record)
        verdict = await self._verifier.verify(spec, stored.credentials, stored.record.config, deadline)
        now = self._clock()
        record = stored.record.with_outcome(Outcome.of(verdict, now), now)
        change = status_event(stored.record.status, record.status)
        try:
            await self._changes.replace(stored, record, stored.credentials, change, deadline)
        finally:
            self._cache.invalidate((tenant_id, connection_id))
        log.info(
            "verified connection",
            extra={
                "tenant_id": tenant_id,
                "connection_id": connection_id,
                "provider": spec.id,
                "reason": verdict.reason,
            },
        )
        return self._current(record)

    async def auth_headers(self, tenant_id: str, connection_id: str, deadline: Deadline) -> AuthHeaders:
        """The headers, from the cache when it holds them (ids found there were valid when stored);
        otherwise read from Vault, built, and cached unless the connection changed meanwhile."""
        key = (tenant_id, connection_id)
        cached = self._cache.get(key)
        if cached is not None:
            auth, due = cached
            if due:
                self._refresh.soon(key)
            return auth
        with self._cache.reading(key) as ticket:
            auth = await self._headers_of(await self._read(tenant_id, connection_id, deadline), deadline)
            self._cache.put(key, auth, ticket)
        return auth

    async def _headers_of(self, stored: StoredConnection, deadline: Deadline) -> AuthHeaders:
        record = stored.record
        status = record.effective_status(self._clock())
        connection_id = record.connection_id
        spec = self._spec_of(record)
        if status is Status.EXPIRED:
            raise FailedPreconditionError(
                f"the credentials of connection {connection_id} expired at "
                f"{record.expires_at:%Y-%m-%d %H:%M} UTC; create a new token and pass it to UpdateConnection",
                reason="CREDENTIALS_EXPIRED",
                metadata={"provider": spec.id},
                help_url=spec.docs_url,
            )
        if status is Status.INVALID:
            hint = record.last_outcome.hint if record.last_outcome else ""
            raise FailedPreconditionError(
                f"connection {connection_id} failed its last verification; {hint} "
                "Then call UpdateConnection with new credentials, or VerifyConnection once it is fixed "
                "at the provider.",
                reason="CONNECTION_INVALID",
                metadata={"provider": spec.id},
                help_url=spec.docs_url,
            )
        auth = await self._verifier.authorization(spec, stored.credentials, record.config, deadline)
        if isinstance(auth, Verdict):  # a rejected client secret makes the connection INVALID
            now = self._clock()
            rejected = stored.record.with_outcome(Outcome.of(auth, now), now)
            change = status_event(stored.record.status, rejected.status)
            try:
                await self._changes.replace(stored, rejected, stored.credentials, change, deadline)
            except (
                CredvaultError
            ) as error:  # changed meanwhile (e.g. by a concurrent caller), or Vault trouble
                log.warning("could not record the rejected client secret (%s)", error.reason)
            finally:
                self._cache.invalidate((record.tenant_id, connection_id))
            raise rejected_secret(spec, connection_id, auth)
        expiries = [t for t in (record.expires_at, auth.expires_at) if t is not None]
        return AuthHeaders(
            headers=auth.headers,
            base_url=self._registry.base_url(spec, record.config),
            expires_at=min(expiries, default=None),
            query_params=auth.query_params,
        )

    async def _load_headers(self, key: Key) -> AuthHeaders:
        return await self._headers_of(await self._store.read(*key, deadline=None), Deadline(None))

    # -- helpers -----------------------------------------------------------------------------------

    async def _read(self, tenant_id: str, connection_id: str, deadline: Deadline) -> StoredConnection:
        violations = _id_violations(tenant_id, connection_id)
        if violations:
            raise InvalidArgumentError(violations)
        return await self._store.read(tenant_id, connection_id, deadline.remaining())

    async def _read_if_present(
        self, tenant_id: str, connection_id: str, deadline: Deadline
    ) -> StoredConnection | None:
        try:
            return await self._store.read(tenant_id, connection_id, deadline.remaining())
        except NotFoundError:
            return None  # deleted between the listing and the read

    def _current(self, record: ConnectionRecord) -> ConnectionRecord:
        now = self._clock()
        status = record.effective_status(now)
        return replace(record, status=status, next_check_at=self._next_check(record, now))

    def _spec_of(self, record: ConnectionRecord) -> ProviderSpec:
        spec = self._registry.find(record.provider)
        if spec is None:
            raise FailedPreconditionError(
                f"connection {record.connection_id} belongs to provider {record.provider}, "
                "which this server no longer has installed",
                reason="PROVIDER_NOT_INSTALLED",
                metadata={"provider": record.provider},
            )
        return spec


def _id_violations(tenant_id: str, connection_id: str) -> list[FieldViolation]:
    found: Iterable[FieldViolation | None] = (
        id_violation("tenant_id", tenant_id),
        id_violation("connection_id", connection_id),
    )
    return [v for v in found if v is not None]


def _encode_page_token(tenant_id: str, provider: str, after: str) -> str:
    raw = "\n".join((tenant_id, provider, after)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_page_token(tenant_id: str, provider: str, token: str) -> str | None:
    """The id to list after; '' for the first page; None when the token is not one of ours."""
    if not token:
        return ""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    parts = raw.split("\n")
    if len(parts) != 3 or parts[:2] != [tenant_id, provider]:
        return None
    return parts[2]
