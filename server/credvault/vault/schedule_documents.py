"""The schedule's documents and the listing of connections, in the service's own KV v2 mount: the
schedule lives in `<prefix>/_schedule/`, a folder no tenant id can name, so the policy every earlier
version installed already covers it (an embedded OpenBao's policy can't be changed after set-up)."""

from __future__ import annotations

import hvac.exceptions

from credvault.config import VaultSettings
from credvault.domain.model import ID_PATTERN
from credvault.domain.recheck_book import Document
from credvault.vault.session import VaultSession
from credvault.vault.store import VaultStore

VAULT_TIMEOUT = 10.0
"""Seconds one schedule request to Vault may take, retries included."""


class VaultDocuments:
    def __init__(self, session: VaultSession, settings: VaultSettings) -> None:
        self._session = session
        self._mount = settings.mount
        self._folder = f"{settings.prefix}/_schedule"

    async def read(self, path: str) -> tuple[Document, int] | None:
        def read() -> tuple[Document, int] | None:
            try:
                answer = self._session.client.secrets.kv.v2.read_secret_version(
                    path=f"{self._folder}/{path}", mount_point=self._mount, raise_on_deleted_version=True
                )
            except hvac.exceptions.InvalidPath:
                return None
            return dict(answer["data"]["data"]), int(answer["data"]["metadata"]["version"])

        return await self._session.run("schedule_read", read, VAULT_TIMEOUT)

    async def write(self, path: str, data: Document, cas: int) -> int | None:
        def write() -> int | None:
            try:
                answer = self._session.client.secrets.kv.v2.create_or_update_secret(
                    path=f"{self._folder}/{path}", secret=data, cas=cas, mount_point=self._mount
                )
            except hvac.exceptions.InvalidRequest as exc:
                if "check-and-set" in str(exc):
                    return None
                raise
            return int(answer["data"]["version"])

        return await self._session.run("schedule_write", write, VAULT_TIMEOUT)

    async def delete(self, path: str) -> None:
        def delete() -> None:
            self._session.client.secrets.kv.v2.delete_metadata_and_all_versions(
                path=f"{self._folder}/{path}", mount_point=self._mount
            )

        await self._session.run("schedule_delete", delete, VAULT_TIMEOUT)


class VaultRoster:
    """Every connection, tenant by tenant, from the KV listing (one LIST per tenant folder)."""

    def __init__(self, store: VaultStore, settings: VaultSettings) -> None:
        self._store = store
        self._session = store.session
        self._mount = settings.mount
        self._prefix = settings.prefix

    async def tenants(self) -> list[str]:
        def tenants() -> list[str]:
            try:
                answer = self._session.client.secrets.kv.v2.list_secrets(
                    path=self._prefix, mount_point=self._mount
                )
            except hvac.exceptions.InvalidPath:
                return []
            folders = [key.rstrip("/") for key in answer["data"]["keys"] if key.endswith("/")]
            # Only tenants: other folders (Connect's `_connect-sessions`) can't be tenant ids.
            return [name for name in folders if ID_PATTERN.fullmatch(name)]

        return await self._session.run("list_tenants", tenants, VAULT_TIMEOUT)

    async def connection_ids(self, tenant_id: str) -> list[str]:
        return await self._store.list_ids(tenant_id, VAULT_TIMEOUT)
