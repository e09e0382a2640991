"""Connections in Vault (KV v2) through hvac: one entry per connection holding its credentials and its
non-secret record together, so every write is atomic. Every call goes through the `VaultSession`
(`credvault.vault.session`), which logs in, finds the active node and retries transient answers.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import TypeVar

import hvac.exceptions

from credvault.config import VaultSettings
from credvault.domain.connections import StoredConnection, not_found
from credvault.domain.errors import AlreadyExistsError, ConflictError
from credvault.domain.model import ConnectionRecord, Credentials
from credvault.vault.session import Timer, VaultSession

T = TypeVar("T")


class _CasMismatch(Exception):
    """Vault refused a check-and-set write: someone else wrote first."""


class VaultStore:
    """The connections of every tenant, under `<mount>/<prefix>/<tenant_id>/<connection_id>`: the
    `ConnectionStore` the server runs."""

    def __init__(self, settings: VaultSettings, timed: Timer = lambda _operation: nullcontext()) -> None:
        self._settings = settings
        self._session = VaultSession(settings, timed)
        self._kv = self._session.client.secrets.kv.v2

    # -- the session -------------------------------------------------------------------------------

    async def open(self, deadline: float | None = None) -> None:
        """Logs in and makes sure the KV v2 mount exists (see `VaultSession.open`)."""
        await self._session.open(deadline)

    def close(self) -> None:
        self._session.close()

    async def renew_token(self) -> float:
        return await self._session.renew_token()

    async def check(self, deadline: float) -> None:
        await self._session.check(deadline)

    @property
    def address(self) -> str:
        """The Vault node requests go to now."""
        return self._session.address

    @property
    def session(self) -> VaultSession:
        """The Vault session, for other documents in the same mount (the re-check schedule)."""
        return self._session

    async def _run(self, operation: str, call: Callable[[], T], deadline: float | None) -> T:
        return await self._session.run(operation, call, deadline)

    # -- connections -------------------------------------------------------------------------------

    async def create(self, record: ConnectionRecord, credentials: Credentials, deadline: float | None) -> int:
        """Writes a new connection; ALREADY_EXISTS when the id is taken (check-and-set 0)."""

        def write() -> int:
            try:
                return self._write(record, credentials, cas=0)
            except _CasMismatch:
                mine = self._own_write(record, credentials)
                if mine is not None:
                    return mine  # an earlier try was applied but its answer was lost
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
                mine = self._own_write(record, credentials)
                if mine is not None:
                    return mine
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

        tried = False

        def delete() -> bool:
            nonlocal tried
            path = self._path(tenant_id, connection_id)
            try:
                self._kv.read_secret_metadata(path=path, mount_point=self._settings.mount)
            except hvac.exceptions.InvalidPath:
                return tried  # gone: by this call when an earlier try was sent
            tried = True
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

    def _own_write(self, record: ConnectionRecord, credentials: Credentials) -> int | None:
        """The version holding exactly this write, when a check-and-set refusal was caused by an
        earlier try of the same write (its answer lost on the way back); None otherwise."""
        try:
            answer = self._kv.read_secret_version(
                path=self._path(record.tenant_id, record.connection_id),
                mount_point=self._settings.mount,
                raise_on_deleted_version=True,
            )
        except hvac.exceptions.InvalidPath:
            return None
        data = answer["data"]
        if data["data"] == {"connection": record.to_dict(), "credentials": credentials.reveal()}:
            return int(data["metadata"]["version"])
        return None
