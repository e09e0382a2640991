"""Asking a provider whether credentials work: at most so many checks in flight (so a hanging provider
can't take every connection), within the caller's deadline, each one reported to an observer (metrics).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime

import httpx

from credvault.domain.errors import (
    CredvaultError,
    FailedPreconditionError,
    ProviderUnavailableError,
    UnavailableError,
)
from credvault.domain.model import ConnectionRecord, Credentials, Deadline, Outcome, Verdict, answer_budget
from credvault.providers import check
from credvault.providers.auth import Authorization
from credvault.providers.authorizer import Authorizer
from credvault.providers.registry import ProviderRegistry
from credvault.providers.spec import ProviderSpec, VerifyRequest

VerificationObserver = Callable[[str, str, str, float], None]
"""Told of each verification: provider id, result (ok, rejected, error), reason, seconds (metrics)."""


class Verifier:
    """Runs providers' checks for the use cases, and builds what requests to them carry (minting OAuth
    tokens through one `Authorizer`, so a token minted by a check serves the headers after it)."""

    def __init__(
        self,
        registry: ProviderRegistry,
        http: httpx.AsyncClient,
        verify_timeout: float,
        max_verifications: int,
        clock: Callable[[], datetime],
        observe: VerificationObserver,
        authorizer: Authorizer,
    ) -> None:
        self._registry = registry
        self._http = http
        self._authorizer = authorizer
        self._verify_timeout = verify_timeout
        self._verifications = asyncio.Semaphore(max_verifications)
        """Bounds the provider calls in flight, so a hanging provider can't take every connection."""
        self._clock = clock
        self._observe_verification = observe

    async def checked(
        self, spec: ProviderSpec, secret: Credentials, config: Mapping[str, str], deadline: Deadline
    ) -> tuple[Outcome, Verdict]:
        """Verifies new credentials; raises FAILED_PRECONDITION with the provider's reason and hint when
        they are rejected or already expired. Returns the outcome and the verdict with the config and
        expiry to store."""
        stated_expiry = spec.expires_at(config) if spec.expires_at else None
        if stated_expiry is not None and stated_expiry <= self._clock():
            raise FailedPreconditionError(
                f"config.expires_at says the credentials expired at {stated_expiry:%Y-%m-%d %H:%M} UTC; "
                "create a new token and give its expiry in config.expires_at",
                reason="CREDENTIALS_EXPIRED",
                metadata={"provider": spec.id},
                help_url=spec.docs_url,
            )
        verdict = await self.verify(spec, secret, config, deadline)
        now = self._clock()
        meta = {"provider": spec.id, "provider_http_status": str(verdict.http_status)}
        if not verdict.ok:
            raise FailedPreconditionError(
                f"{spec.display_name} rejected the credentials (HTTP {verdict.http_status}, "
                f"{verdict.reason}): {verdict.hint}",
                reason=verdict.reason,
                metadata={**meta, "hint": verdict.hint},
                help_url=spec.docs_url,
            )
        learnt_config = {**config, **verdict.config}
        expires_at = verdict.expires_at or (spec.expires_at(learnt_config) if spec.expires_at else None)
        if expires_at is not None and expires_at <= now:
            raise FailedPreconditionError(
                f"the credentials expired at {expires_at:%Y-%m-%d %H:%M} UTC; create a new token",
                reason="CREDENTIALS_EXPIRED",
                metadata=meta,
                help_url=spec.docs_url,
            )
        return Outcome.of(verdict, now), replace(verdict, config=learnt_config, expires_at=expires_at)

    async def verify(
        self, spec: ProviderSpec, secret: Credentials, config: Mapping[str, str], deadline: Deadline
    ) -> Verdict:
        wait = deadline.remaining(cap=self._verify_timeout) or 0.0
        try:
            async with asyncio.timeout(answer_budget(wait)):
                await self._verifications.acquire()
        except TimeoutError:
            raise UnavailableError(
                "too many provider checks are in progress on this server; try again shortly",
                reason="VERIFICATIONS_BUSY",
                metadata={"provider": spec.id},
                retry_after=1.0,
            ) from None
        try:
            return await self._verify_now(spec, secret, config, deadline)
        finally:
            self._verifications.release()

    async def _verify_now(
        self, spec: ProviderSpec, secret: Credentials, config: Mapping[str, str], deadline: Deadline
    ) -> Verdict:
        timeout = max(answer_budget(deadline.remaining(cap=self._verify_timeout) or 0.0), 0.01)
        started = time.perf_counter()
        try:
            verdict = await self._bounded_check(spec, secret, config, timeout, started)
        except CredvaultError as error:
            error.metadata["provider"] = spec.id
            self._observe_verification(spec.id, "error", error.reason, time.perf_counter() - started)
            raise
        except asyncio.CancelledError:  # the caller gave up (deadline or cancel) before the provider answered
            self._observe_verification(spec.id, "error", "CANCELLED", time.perf_counter() - started)
            raise
        result = "ok" if verdict.ok else "rejected"
        self._observe_verification(spec.id, result, verdict.reason, time.perf_counter() - started)
        return verdict

    async def _bounded_check(
        self,
        spec: ProviderSpec,
        secret: Credentials,
        config: Mapping[str, str],
        timeout: float,
        started: float,
    ) -> Verdict:
        """The whole check (token, every request and page of it, every byte of every answer) within
        `timeout`: httpx's timeouts bound each read, not a provider that trickles bytes."""
        try:
            async with asyncio.timeout(timeout):
                return await self._check(spec, secret, config, timeout, started)
        except TimeoutError:
            raise ProviderUnavailableError(
                f"{spec.display_name} did not finish answering within {timeout:.1f}s; try again later",
                reason="PROVIDER_TIMEOUT",
            ) from None

    async def _check(
        self,
        spec: ProviderSpec,
        secret: Credentials,
        config: Mapping[str, str],
        timeout: float,
        started: float,
    ) -> Verdict:
        auth = await self._authorizer.authorize(spec, secret, config, timeout, fresh=True)
        if isinstance(auth, Verdict):  # the token endpoint rejected the client credentials
            return auth
        request = VerifyRequest(
            http=self._http,
            credentials=secret,
            config=config,
            base_url=self._registry.base_url(spec, config),
            headers=auth.headers,
            query_params=auth.query_params,
            timeout=max(timeout - (time.perf_counter() - started), 0.01),
            render_base_url=lambda other: self._registry.base_url(spec, other),
            render_url=lambda name, other: self._registry.url(spec, name, other),
        )
        return await check.verify(spec, request)

    async def authorization(
        self, spec: ProviderSpec, secret: Credentials, config: Mapping[str, str], deadline: Deadline
    ) -> Authorization | Verdict:
        """What a request carries, for GetAuthHeaders: a cached token when the provider mints them
        (minted again when due); the token endpoint's verdict when it rejects the client secret."""
        timeout = max(answer_budget(deadline.remaining(cap=self._verify_timeout) or 0.0), 0.01)
        return await self._authorizer.authorize(spec, secret, config, timeout)


def rejected_secret(spec: ProviderSpec, connection_id: str, verdict: Verdict) -> FailedPreconditionError:
    """The error GetAuthHeaders answers when the token endpoint refused the stored client secret."""
    return FailedPreconditionError(
        f"connection {connection_id} failed its last verification; {verdict.hint} "
        "Then call UpdateConnection with new credentials.",
        reason="CONNECTION_INVALID",
        metadata={"provider": spec.id, "provider_http_status": str(verdict.http_status)},
        help_url=spec.docs_url,
    )


def expired_verdict(record: ConnectionRecord) -> Verdict:
    when = f" at {record.expires_at:%Y-%m-%d %H:%M} UTC" if record.expires_at else ""
    return Verdict(
        ok=False,
        reason="CREDENTIALS_EXPIRED",
        hint=f"The credentials expired{when}; create a new token and pass it (with its new expiry) "
        "to UpdateConnection.",
    )
