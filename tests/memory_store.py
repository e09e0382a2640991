"""A `ConnectionStore` in memory, for unit tests of the use cases that need no OpenBao. It keeps what
Vault keeps the way Vault keeps it (the record's stored JSON form, a version per write, check-and-set),
so a test passes here for the same reasons it would against Vault."""

from __future__ import annotations

import copy
from typing import Any

from credvault.domain.connections import StoredConnection, not_found
from credvault.domain.errors import AlreadyExistsError, ConflictError
from credvault.domain.model import ConnectionRecord, Credentials


class MemoryStore:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        """(tenant, connection) -> (version, the entry as Vault would hold it)."""
        self.reads = 0
        self.writes = 0

    async def exists(self, tenant_id: str, connection_id: str, deadline: float | None) -> bool:
        return (tenant_id, connection_id) in self.entries

    async def create(self, record: ConnectionRecord, credentials: Credentials, deadline: float | None) -> int:
        key = (record.tenant_id, record.connection_id)
        if key in self.entries:
            raise AlreadyExistsError(
                f"connection {record.connection_id} already exists for tenant {record.tenant_id}"
            )
        return self._write(key, 1, record, credentials)

    async def replace(
        self, record: ConnectionRecord, credentials: Credentials, version: int, deadline: float | None
    ) -> int:
        key = (record.tenant_id, record.connection_id)
        current = self.entries.get(key)
        if current is None or current[0] != version:
            raise ConflictError(
                f"connection {record.connection_id} was changed concurrently; read it and try again"
            )
        return self._write(key, version + 1, record, credentials)

    async def read(self, tenant_id: str, connection_id: str, deadline: float | None) -> StoredConnection:
        self.reads += 1
        entry = self.entries.get((tenant_id, connection_id))
        if entry is None:
            raise not_found(tenant_id, connection_id)
        version, data = entry
        return StoredConnection(
            record=ConnectionRecord.from_dict(tenant_id, connection_id, data["connection"]),
            credentials=Credentials(data["credentials"]),
            version=version,
        )

    async def delete(self, tenant_id: str, connection_id: str, deadline: float | None) -> bool:
        return self.entries.pop((tenant_id, connection_id), None) is not None

    async def list_ids(self, tenant_id: str, deadline: float | None) -> list[str]:
        return sorted(connection for tenant, connection in self.entries if tenant == tenant_id)

    def _write(
        self, key: tuple[str, str], version: int, record: ConnectionRecord, credentials: Credentials
    ) -> int:
        self.entries[key] = (version, {"connection": record.to_dict(), "credentials": credentials.reveal()})
        self.writes += 1
        return version


class MemoryDocuments:
    """The event log's documents (`credvault.events.journal.Documents`) in memory, with versions and
    check-and-set like Vault's KV v2."""

    def __init__(self) -> None:
        self.documents: dict[str, tuple[int, dict[str, Any]]] = {}

    async def read(self, name: str, deadline: float | None) -> tuple[dict[str, Any], int] | None:
        found = self.documents.get(name)
        return None if found is None else (dict(found[1]), found[0])

    async def write(self, name: str, data: dict[str, Any], cas: int | None, deadline: float | None) -> int:
        version = self.documents.get(name, (0, {}))[0]
        if cas is not None and cas != version:
            raise ConflictError(f"document {name} was changed concurrently")
        self.documents[name] = (version + 1, dict(data))
        return version + 1

    async def delete(self, name: str, deadline: float | None) -> None:
        self.documents.pop(name, None)


class MemoryScheduleDocuments:
    """The schedule's documents (`credvault.vault.schedule_documents`) in memory: versions, and a
    check-and-set write that answers None when it loses, like Vault's KV v2."""

    def __init__(self) -> None:
        self.docs: dict[str, tuple[dict[str, Any], int]] = {}

    async def read(self, path: str) -> tuple[dict[str, Any], int] | None:
        found = self.docs.get(path)
        return None if found is None else (copy.deepcopy(found[0]), found[1])

    async def write(self, path: str, data: dict[str, Any], cas: int) -> int | None:
        current = self.docs.get(path, ({}, 0))[1]
        if current != cas:
            return None
        self.docs[path] = (copy.deepcopy(data), current + 1)
        return current + 1

    async def delete(self, path: str) -> None:
        self.docs.pop(path, None)


class Clock:
    """A wall clock the test moves by setting `now`."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
