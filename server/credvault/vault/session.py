"""credvault's session with Vault through hvac: login (token or AppRole), token renewal, finding the
active node, and running each call with retries within the caller's deadline.

hvac is synchronous, so each call runs on a small dedicated thread pool, with hvac's own timeout (a
cancelled coroutine does not stop a thread blocked in a request). hvac's and requests' exceptions are
translated into credvault's by `credvault.vault.http`, and only there.

Vault clusters (HA, integrated Raft storage): `VAULT_ADDR` may name every node. Every request goes to
the node that is active, so a read made by any replica after any acknowledged write sees it (a standby
may serve stale reads). Redirects are never followed: a standby whose leader died redirects to the dead
leader. Transient answers (connection refused, a redirect, 500 "active node not found", 503 sealed or
standby, 429/412 with Retry-After) are retried on the active node, found again through `sys/leader`,
with a short backoff and only while the caller's deadline allows; an answer that may have been applied
(a read timeout on a write) is never blindly repeated.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from typing import TypeVar

import hvac
import hvac.exceptions
import requests
import tenacity

from credvault.config import VaultSettings
from credvault.domain.errors import ConfigError, StoreUnavailableError
from credvault.domain.model import answer_budget
from credvault.vault.http import DeadlineAdapter, Transient, vault_errors

log = logging.getLogger(__name__)
T = TypeVar("T")
Timer = Callable[[str], AbstractContextManager[object]]
"""Wraps each Vault call, given its operation name (metrics)."""
MIN_TOKEN_TTL = 60.0
"""Seconds of token life below which the session logs in again instead of renewing."""
MAX_ATTEMPTS = 6
"""Tries of one Vault request in all, when its answers are transient (and the deadline allows).
tenacity runs the tries; the rules (which answers, how long, where next) are credvault's."""
BACKOFF = (0.05, 0.1, 0.2, 0.4, 0.8)
"""Seconds between tries, unless Vault's Retry-After asks for another delay."""
UNBOUNDED_CALL = 30.0
"""Seconds a call without a caller's deadline (start-up, token renewal) may spend retrying."""
PROBE_TIMEOUT = 1.0
"""Seconds one `sys/leader` probe may take while looking for the active node."""


class _LoginRefused(Exception):
    """Vault refused credvault's AppRole credentials or token: a configuration error, not an outage."""


class VaultSession:
    """One logged-in hvac client pointed at Vault's active node, and the pool its calls run on."""

    def __init__(self, settings: VaultSettings, timed: Timer = lambda _operation: nullcontext()) -> None:
        if not settings.addresses:
            raise ValueError("VaultStore needs a Vault address")
        self._settings = settings
        self._timed = timed
        self._addresses = settings.addresses
        self._local = threading.local()  # the deadline of the call this pool thread is running
        session = requests.Session()
        session.trust_env = False  # no proxy or netrc lookups per call; Vault is addressed directly
        self._client = hvac.Client(
            url=self._addresses[0],
            token=settings.token,
            namespace=settings.namespace,
            verify=settings.cacert or True,
            timeout=settings.timeout,  # type: ignore[arg-type]  # passed on to requests: float seconds
            session=session,
            allow_redirects=False,
            adapter=DeadlineAdapter,
            time_left=self._time_left,
        )
        self._probe = requests.Session()
        self._probe.trust_env = False
        self._executor = ThreadPoolExecutor(max_workers=settings.threads, thread_name_prefix="vault")

    # -- lifecycle ---------------------------------------------------------------------------------

    async def open(self, deadline: float | None = None) -> None:
        """Logs in (AppRole) and makes sure the KV v2 mount exists. Raises ConfigError when Vault
        refuses credvault's credentials, StoreUnavailableError when Vault can't be used just now."""
        try:
            await self.run("login", self._open_sync, deadline=deadline)
        except _LoginRefused as refused:
            raise ConfigError(str(refused)) from None

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._probe.close()

    def _open_sync(self) -> None:
        if self._settings.role_id:
            self._login()
        else:
            try:
                self._client.auth.token.lookup_self()
            except (hvac.exceptions.Forbidden, hvac.exceptions.Unauthorized):
                raise _LoginRefused("Vault does not accept VAULT_TOKEN; check the token") from None
        if self._settings.create_mount:
            self._ensure_mount()

    def _login(self) -> None:
        try:
            self._client.auth.approle.login(
                role_id=self._settings.role_id,
                secret_id=self._settings.secret_id,
                mount_point=self._settings.approle_mount,
            )
        except (hvac.exceptions.InvalidRequest, hvac.exceptions.Forbidden, hvac.exceptions.Unauthorized):
            raise _LoginRefused(
                "Vault refused the AppRole login; check VAULT_ROLE_ID, VAULT_SECRET_ID and "
                "CREDVAULT_VAULT_APPROLE_MOUNT"
            ) from None
        log.info("logged in to Vault with AppRole")

    def _ensure_mount(self) -> None:
        try:
            mounts = self._client.sys.list_mounted_secrets_engines()
        except hvac.exceptions.Forbidden:
            log.info("may not list Vault mounts; assuming %s/ is a KV v2 mount", self._settings.mount)
            return
        data = mounts.get("data", mounts)
        if f"{self._settings.mount}/" in data:
            return
        self._client.sys.enable_secrets_engine(
            backend_type="kv", path=self._settings.mount, options={"version": "2"}
        )
        log.info("created the KV v2 mount %s/", self._settings.mount)

    async def renew_token(self) -> float:
        """Renews the service's token, or logs in again when it can't be; returns seconds until the
        next renewal is due (0 when the token does not expire)."""
        return await self.run("renew_token", self._renew_sync, deadline=None)

    def _renew_sync(self) -> float:
        info = self._client.auth.token.lookup_self()["data"]
        ttl = float(info.get("ttl") or 0)
        if not ttl:
            return 0.0
        if info.get("renewable"):
            ttl = float(self._client.auth.token.renew_self()["auth"]["lease_duration"])
        if ttl < MIN_TOKEN_TTL and self._settings.role_id:
            # Renewal no longer extends the token (the role's max TTL is near): log in afresh.
            self._login()
            ttl = float(self._client.auth.token.lookup_self()["data"].get("ttl") or 0)
        return ttl / 2

    async def check(self, deadline: float) -> None:
        """Finds the active node again and raises StoreUnavailableError unless it answers unsealed."""

        def check() -> None:
            self._find_active()
            if self._client.sys.read_seal_status().get("sealed"):
                raise StoreUnavailableError("Vault is sealed; unseal it", reason="VAULT_SEALED")

        await self.run("health", check, deadline)

    @property
    def client(self) -> hvac.Client:
        """The hvac client; call it only inside `run`, which keeps it on the active node and logged in."""
        return self._client

    @property
    def address(self) -> str:
        """The Vault node requests go to now."""
        return str(self._client.url)

    async def run(self, operation: str, call: Callable[[], T], deadline: float | None) -> T:
        """Runs a synchronous Vault call on the pool, within `deadline` seconds when given. The thread
        sees the caller's context variables (the request id its log lines carry)."""
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        budget = UNBOUNDED_CALL if deadline is None else answer_budget(deadline)
        ends = time.monotonic() + max(budget, 0.0)
        future = loop.run_in_executor(self._executor, context.run, self._translated, operation, call, ends)
        try:
            # Not asyncio.wait_for: on Python 3.11 it swallows a cancellation that arrives as the call
            # finishes, and a background loop cancelled at shutdown then never ends.
            async with asyncio.timeout(max(ends - time.monotonic(), 0.0)):
                return await future
        except TimeoutError:
            raise StoreUnavailableError(
                "Vault did not answer before the call's deadline", reason="VAULT_TIMEOUT"
            ) from None

    def _time_left(self) -> float | None:
        ends: float | None = getattr(self._local, "ends", None)
        return None if ends is None else ends - time.monotonic()

    def _translated(self, operation: str, call: Callable[[], T], ends: float) -> T:
        """Runs `call` (in a pool thread), again on the active node while its answers are transient
        and time is left; then maps whatever it raised."""

        def give_up(state: tenacity.RetryCallState) -> bool:
            # `upcoming_sleep` is the pause `_pause` chose: never sleep past the caller's deadline.
            return (
                state.attempt_number >= MAX_ATTEMPTS or ends - time.monotonic() < state.upcoming_sleep + 0.05
            )

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(Transient),
            wait=_pause,
            stop=give_up,
            before=lambda state: self._find_active() if state.attempt_number > 1 else None,
            before_sleep=_log_retry,
            reraise=True,  # the last Transient, which vault_errors() turns into its error
        )
        self._local.ends = ends
        try:
            with self._timed(operation), vault_errors():
                answer: T = retrying(self._attempt, call)
                return answer
        finally:
            self._local.ends = None

    def _attempt(self, call: Callable[[], T]) -> T:
        try:
            return self._authenticated(call)
        except (requests.exceptions.ConnectionError, requests.exceptions.ConnectTimeout):
            # Not sent, or sent to a node that died: every write here is check-and-set or recognises
            # its own earlier try, so sending it again is safe.
            raise Transient(
                StoreUnavailableError("Vault could not be reached", reason="VAULT_UNREACHABLE")
            ) from None

    def _authenticated(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except hvac.exceptions.Forbidden:
            if not self._settings.role_id:
                raise
        # The token expired or was revoked: log in again once, then retry the call.
        try:
            self._login()
        except _LoginRefused as refused:
            log.error("%s", refused)
            raise StoreUnavailableError(
                "Vault refused credvault's login; the operator must check its AppRole credentials",
                reason="VAULT_PERMISSION_DENIED",
            ) from None
        return call()

    def _find_active(self) -> None:
        """Points the client at the active node: the one whose `sys/leader` says `is_self` (or, on a
        single server without HA, the one that answers). Keeps the current node when none does."""
        if len(self._addresses) == 1:
            return
        current = self.address
        for address in sorted(self._addresses, key=lambda a: a != current):
            left = self._time_left()
            if left is not None and left <= 0:
                return
            try:
                answer = self._probe.get(
                    f"{address}/v1/sys/leader",
                    timeout=min(PROBE_TIMEOUT, left or PROBE_TIMEOUT),
                    verify=self._settings.cacert or True,
                    allow_redirects=False,
                )
                leader = answer.json() if answer.status_code == 200 else {}
            except (requests.exceptions.RequestException, ValueError):
                continue
            if leader.get("is_self") or leader.get("ha_enabled") is False:
                if address != current:
                    log.warning("Vault's active node is now %s", address)
                    self._client.url = address
                return


def _transient(state: tenacity.RetryCallState) -> StoreUnavailableError:
    assert state.outcome is not None
    raised = state.outcome.exception()
    assert isinstance(raised, Transient)
    return raised.error


def _pause(state: tenacity.RetryCallState) -> float:
    """Vault's Retry-After when it sent one, else the next step of BACKOFF."""
    retry_after = _transient(state).retry_after
    if retry_after is not None:
        return retry_after
    return BACKOFF[min(state.attempt_number - 1, len(BACKOFF) - 1)]


def _log_retry(state: tenacity.RetryCallState) -> None:
    log.info("Vault answered %s; trying again in %.2fs", _transient(state).reason, state.upcoming_sleep)
