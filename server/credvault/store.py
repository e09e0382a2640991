"""Connections in Vault (KV v2) through hvac: one entry per connection holding its credentials and its
non-secret record together, so every write is atomic.

hvac is synchronous, so each call runs on a small dedicated thread pool, with hvac's own timeout (a
cancelled coroutine does not stop a thread blocked in a request). hvac's and requests' exceptions are
translated here, and only here, into credvault's.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import TypeVar

import hvac
import hvac.exceptions
import requests

from credvault.config import VaultSettings
from credvault.errors import (
    AlreadyExistsError,
    ConflictError,
    CredvaultError,
    NotFoundError,
    StoreUnavailableError,
)
from credvault.model import ConnectionRecord, Credentials

log = logging.getLogger(__name__)
T = TypeVar("T")
Timer = Callable[[str], AbstractContextManager[object]]
"""Wraps each Vault call, given its operation name (metrics)."""
MIN_TOKEN_TTL = 60.0
"""Seconds of token life below which the store logs in again instead of renewing."""


@dataclass(frozen=True)
class StoredConnection:
    record: ConnectionRecord
    credentials: Credentials
    version: int
    """The KV version read; an update must name it (check-and-set)."""


class _CasMismatch(Exception):
    """Vault refused a check-and-set write: someone else wrote first."""


class VaultStore:
    """The connections of every tenant, under `<mount>/<prefix>/<tenant_id>/<connection_id>`."""

    def __init__(self, settings: VaultSettings, timed: Timer = lambda _operation: nullcontext()) -> None:
        if not settings.addr:
            raise ValueError("VaultStore needs a Vault address")
        self._settings = settings
        self._timed = timed
        session = requests.Session()
        session.trust_env = False  # no proxy or netrc lookups per call; Vault is addressed directly
        self._client = hvac.Client(
            url=settings.addr,
            token=settings.token,
            namespace=settings.namespace,
            verify=settings.cacert or True,
            timeout=settings.timeout,
            session=session,
        )
        self._kv = self._client.secrets.kv.v2
        self._executor = ThreadPoolExecutor(max_workers=settings.threads, thread_name_prefix="vault")

    # -- lifecycle ---------------------------------------------------------------------------------

    async def open(self) -> None:
        """Logs in (AppRole) and makes sure the KV v2 mount exists."""
        await self._run("login", self._open_sync, deadline=None)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _open_sync(self) -> None:
        if self._settings.role_id:
            self._login()
        if self._settings.create_mount:
            self._ensure_mount()

    def _login(self) -> None:
        self._client.auth.approle.login(
            role_id=self._settings.role_id,
            secret_id=self._settings.secret_id,
            mount_point=self._settings.approle_mount,
        )
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
        return await self._run("renew_token", self._renew_sync, deadline=None)

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

    async def sealed(self) -> bool:
        """True when Vault answers but is sealed; raises StoreUnavailableError when it doesn't answer."""
        status = await self._run("seal_status", self._client.sys.read_seal_status, deadline=None)
        return bool(status.get("sealed"))

    # -- connections -------------------------------------------------------------------------------

    async def create(self, record: ConnectionRecord, credentials: Credentials, deadline: float | None) -> int:
        """Writes a new connection; ALREADY_EXISTS when the id is taken (check-and-set 0)."""

        def write() -> int:
            try:
                return self._write(record, credentials, cas=0)
            except _CasMismatch:
                raise AlreadyExistsError(
                    f"connection {record.connection_id} already exists for tenant {record.tenant_id}"
                ) from None

        return await self._run("create", write, deadline)

    async def replace(
        self, record: ConnectionRecord, credentials: Credentials, version: int, deadline: float | None
    ) -> int:
        """Replaces version `version`; ABORTED when another write came first."""

        def write() -> int:
            try:
                return self._write(record, credentials, cas=version)
            except _CasMismatch:
                raise ConflictError(
                    f"connection {record.connection_id} was changed concurrently; read it and try again"
                ) from None

        return await self._run("replace", write, deadline)

    async def read(self, tenant_id: str, connection_id: str, deadline: float | None) -> StoredConnection:
        def read() -> StoredConnection:
            try:
                answer = self._kv.read_secret_version(
                    path=self._path(tenant_id, connection_id),
                    mount_point=self._settings.mount,
                    raise_on_deleted_version=True,
                )
            except hvac.exceptions.InvalidPath:
                raise not_found(tenant_id, connection_id) from None
            data = answer["data"]
            return StoredConnection(
                record=ConnectionRecord.from_dict(tenant_id, connection_id, data["data"]["connection"]),
                credentials=Credentials(data["data"]["credentials"]),
                version=int(data["metadata"]["version"]),
            )

        return await self._run("read", read, deadline)

    async def exists(self, tenant_id: str, connection_id: str, deadline: float | None) -> bool:
        def exists() -> bool:
            try:
                self._kv.read_secret_metadata(
                    path=self._path(tenant_id, connection_id), mount_point=self._settings.mount
                )
            except hvac.exceptions.InvalidPath:
                return False
            return True

        return await self._run("exists", exists, deadline)

    async def delete(self, tenant_id: str, connection_id: str, deadline: float | None) -> bool:
        """Removes the connection's metadata and every version; False when there was none."""

        def delete() -> bool:
            path = self._path(tenant_id, connection_id)
            try:
                self._kv.read_secret_metadata(path=path, mount_point=self._settings.mount)
            except hvac.exceptions.InvalidPath:
                return False
            self._kv.delete_metadata_and_all_versions(path=path, mount_point=self._settings.mount)
            return True

        return await self._run("delete", delete, deadline)

    async def list_ids(self, tenant_id: str, deadline: float | None) -> list[str]:
        """Every connection id of the tenant, sorted."""

        def list_ids() -> list[str]:
            try:
                answer = self._kv.list_secrets(
                    path=f"{self._settings.prefix}/{tenant_id}", mount_point=self._settings.mount
                )
            except hvac.exceptions.InvalidPath:
                return []
            return sorted(key for key in answer["data"]["keys"] if not key.endswith("/"))

        return await self._run("list", list_ids, deadline)

    # -- plumbing ----------------------------------------------------------------------------------

    def _path(self, tenant_id: str, connection_id: str) -> str:
        return f"{self._settings.prefix}/{tenant_id}/{connection_id}"

    def _write(self, record: ConnectionRecord, credentials: Credentials, cas: int) -> int:
        try:
            answer = self._kv.create_or_update_secret(
                path=self._path(record.tenant_id, record.connection_id),
                secret={"connection": record.to_dict(), "credentials": credentials.reveal()},
                cas=cas,
                mount_point=self._settings.mount,
            )
        except hvac.exceptions.InvalidRequest as exc:
            if "check-and-set" in str(exc):
                raise _CasMismatch() from None
            raise
        return int(answer["data"]["version"])

    async def _run(self, operation: str, call: Callable[[], T], deadline: float | None) -> T:
        """Runs a synchronous Vault call on the pool, within `deadline` seconds when given. The thread
        sees the caller's context variables (the request id its log lines carry)."""
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        future = loop.run_in_executor(self._executor, context.run, self._translated, operation, call)
        if deadline is None:
            return await future
        try:
            return await asyncio.wait_for(future, timeout=max(deadline, 0.0))
        except TimeoutError:
            raise StoreUnavailableError(
                "Vault did not answer before the call's deadline", reason="VAULT_TIMEOUT"
            ) from None

    def _translated(self, operation: str, call: Callable[[], T]) -> T:
        with self._timed(operation), _vault_errors():
            try:
                return call()
            except hvac.exceptions.Forbidden:
                if not self._settings.role_id:
                    raise
            # The token expired or was revoked: log in again once, then retry the call.
            self._login()
            return call()


def not_found(tenant_id: str, connection_id: str) -> NotFoundError:
    return NotFoundError(f"no connection {connection_id} for tenant {tenant_id}")


@contextmanager
def _vault_errors() -> Iterator[None]:
    """Maps hvac's and requests' exceptions to credvault's, most specific first. Vault's own error
    texts are logged, not passed on (they may quote request paths)."""
    try:
        yield
    except CredvaultError:
        raise
    except hvac.exceptions.VaultDown:
        raise StoreUnavailableError("Vault is sealed; unseal it", reason="VAULT_SEALED") from None
    except hvac.exceptions.Forbidden:
        log.error("Vault denied credvault's token; check its policy and credentials")
        raise StoreUnavailableError(
            "Vault denied access to credvault; the operator must check its Vault policy",
            reason="VAULT_PERMISSION_DENIED",
        ) from None
    except hvac.exceptions.RateLimitExceeded:
        raise StoreUnavailableError("Vault is rate-limiting credvault", reason="VAULT_RATE_LIMITED") from None
    except hvac.exceptions.VaultError as exc:
        log.error("Vault answered an error: %s", type(exc).__name__)
        raise StoreUnavailableError("Vault answered with an error", reason="VAULT_ERROR") from None
    except requests.exceptions.Timeout:
        raise StoreUnavailableError("Vault did not answer in time", reason="VAULT_TIMEOUT") from None
    except requests.exceptions.RequestException:
        raise StoreUnavailableError("Vault could not be reached", reason="VAULT_UNREACHABLE") from None
