"""The event log's documents in Vault (its head and pages, webhook delivery): `<prefix>/_events/<name>`,
beside the tenants' folders. No tenant id starts with '_', so the folder never meets a connection's
path, and the policy of earlier versions already covers it (an upgraded deployment, the embedded
OpenBao's included, needs no new policy for events)."""

from __future__ import annotations

from typing import Any

import hvac.exceptions

from credvault.config import VaultSettings
from credvault.domain.errors import ConflictError
from credvault.vault.session import VaultSession


class EventDocuments:
    def __init__(self, session: VaultSession, settings: VaultSettings) -> None:
        self._session = session
        self._settings = settings
        self._kv = session.client.secrets.kv.v2

    async def read(self, name: str, deadline: float | None) -> tuple[dict[str, Any], int] | None:
        """The data and version of document `name`, or None when there is none."""

        def read() -> tuple[dict[str, Any], int] | None:
            try:
                answer = self._kv.read_secret_version(
                    path=self._path(name), mount_point=self._settings.mount, raise_on_deleted_version=True
                )
            except hvac.exceptions.InvalidPath:
                return None
            return dict(answer["data"]["data"]), int(answer["data"]["metadata"]["version"])

        return await self._session.run("read_document", read, deadline)

    async def write(self, name: str, data: dict[str, Any], cas: int | None, deadline: float | None) -> int:
        """Writes document `name` (check-and-set `cas` when given); ABORTED when another write came
        first. Callers make their writes idempotent: a retried write whose first try was applied is
        refused like anyone else's."""

        def write() -> int:
            try:
                answer = self._kv.create_or_update_secret(
                    path=self._path(name), secret=data, cas=cas, mount_point=self._settings.mount
                )
            except hvac.exceptions.InvalidRequest as exc:
                if "check-and-set" in str(exc):
                    raise ConflictError(f"document {name} was changed concurrently") from None
                raise
            return int(answer["data"]["version"])

        return await self._session.run("write_document", write, deadline)

    async def delete(self, name: str, deadline: float | None) -> None:
        def delete() -> None:
            self._kv.delete_metadata_and_all_versions(path=self._path(name), mount_point=self._settings.mount)

        await self._session.run("delete_document", delete, deadline)

    def _path(self, name: str) -> str:
        return f"{self._settings.prefix}/_events/{name}"
