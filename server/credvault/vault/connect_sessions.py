"""Connect sessions in Vault (KV v2), one entry per session at `<prefix>/_connect-sessions/<session_id>`.

Tenant ids start with a letter or digit, so this folder never meets a tenant's, and the shipped policy
(`<prefix>/*`) already covers it. Every change is a check-and-set write: that is what makes a session
single-use across replicas.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

import hvac.exceptions

from credvault.config import VaultSettings
from credvault.domain.connect_session import ConnectSessionRecord
from credvault.domain.errors import AlreadyExistsError, ConflictError, NotFoundError
from credvault.vault.session import VaultSession

FOLDER = "_connect-sessions"


class _CasMismatch(Exception):
    pass


class ConnectSessionStore:
    def __init__(self, session: VaultSession, settings: VaultSettings) -> None:
        self._session = session
        self._mount = settings.mount
        self._folder = f"{settings.prefix}/{FOLDER}"

    async def create(self, record: ConnectSessionRecord, deadline: float | None) -> int:
        def write() -> int:
            try:
                return self._write(record, cas=0)
            except _CasMismatch:
                mine = self._own_write(record)
                if mine is None:
                    raise AlreadyExistsError("a Connect session with this id exists") from None
                return mine

        return await self._session.run("connect_session_create", write, deadline)

    async def read(self, session_id: str, deadline: float | None) -> tuple[ConnectSessionRecord, int]:
        def read() -> tuple[ConnectSessionRecord, int]:
            found = self._read(session_id)
            if found is None:
                raise NotFoundError("no such Connect session", reason="CONNECT_SESSION_NOT_FOUND")
            data, version = found
            return ConnectSessionRecord.from_dict(session_id, data), version

        return await self._session.run("connect_session_read", read, deadline)

    async def replace(self, record: ConnectSessionRecord, version: int, deadline: float | None) -> int:
        """Writes over version `version`; ConflictError when another write came first."""

        def write() -> int:
            try:
                return self._write(record, cas=version)
            except _CasMismatch:
                mine = self._own_write(record)
                if mine is None:
                    raise ConflictError(
                        "the Connect session changed meanwhile", reason="CONNECT_SESSION_CHANGED"
                    ) from None
                return mine  # an earlier try was applied but its answer was lost

        return await self._session.run("connect_session_replace", write, deadline)

    async def delete_unchanged_since(self, cutoff: datetime) -> int:
        """Removes every session last written before `cutoff` (with all its versions); returns how many."""

        def listed() -> list[str]:
            try:
                answer = self._kv().list_secrets(path=self._folder, mount_point=self._mount)
            except hvac.exceptions.InvalidPath:
                return []
            return [key for key in answer["data"]["keys"] if not key.endswith("/")]

        def delete_if_old(session_id: str) -> bool:
            try:
                meta = self._kv().read_secret_metadata(path=self._path(session_id), mount_point=self._mount)
            except hvac.exceptions.InvalidPath:
                return False  # another replica swept it first
            written = datetime.fromisoformat(meta["data"]["updated_time"][:19]).replace(tzinfo=UTC)
            if written >= cutoff:
                return False
            self._kv().delete_metadata_and_all_versions(path=self._path(session_id), mount_point=self._mount)
            return True

        removed = 0
        for session_id in await self._session.run("connect_session_list", listed, None):
            swept = await self._session.run("connect_session_sweep", partial(delete_if_old, session_id), None)
            removed += swept
        return removed

    def _kv(self) -> Any:
        return self._session.client.secrets.kv.v2

    def _path(self, session_id: str) -> str:
        return f"{self._folder}/{session_id}"

    def _write(self, record: ConnectSessionRecord, cas: int) -> int:
        try:
            answer = self._kv().create_or_update_secret(
                path=self._path(record.session_id), secret=record.to_dict(), cas=cas, mount_point=self._mount
            )
        except hvac.exceptions.InvalidRequest as exc:
            if "check-and-set" in str(exc):
                raise _CasMismatch() from None
            raise
        return int(answer["data"]["version"])

    def _read(self, session_id: str) -> tuple[dict[str, Any], int] | None:
        try:
            answer = self._kv().read_secret_version(
                path=self._path(session_id), mount_point=self._mount, raise_on_deleted_version=True
            )
        except hvac.exceptions.InvalidPath:
            return None
        return answer["data"]["data"], int(answer["data"]["metadata"]["version"])

    def _own_write(self, record: ConnectSessionRecord) -> int | None:
        found = self._read(record.session_id)
        if found is not None and found[0] == record.to_dict():
            return found[1]
        return None
