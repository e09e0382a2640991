"""What the use cases need from wherever connections are kept: `ConnectionStore`. Vault is the one
implementation the server runs (`credvault.vault.store.VaultStore`); the unit tests use one in memory.

Every write is check-and-set against the version read, so replicas sharing one store never lose an
update; deadlines are seconds left (None: the store's own limit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from credvault.domain.errors import NotFoundError
from credvault.domain.model import ConnectionRecord, Credentials


@dataclass(frozen=True)
class StoredConnection:
    record: ConnectionRecord
    credentials: Credentials
    version: int
    """The version read; an update must name it (check-and-set)."""


class ConnectionStore(Protocol):
    async def exists(self, tenant_id: str, connection_id: str, deadline: float | None) -> bool: ...

    async def create(self, record: ConnectionRecord, credentials: Credentials, deadline: float | None) -> int:
        """Writes a new connection and returns its version; AlreadyExistsError when the id is taken."""
        ...

    async def replace(
        self, record: ConnectionRecord, credentials: Credentials, version: int, deadline: float | None
    ) -> int:
        """Replaces version `version`; ConflictError when another write came first."""
        ...

    async def read(self, tenant_id: str, connection_id: str, deadline: float | None) -> StoredConnection:
        """The connection; NotFoundError (`not_found`) when there is none."""
        ...

    async def delete(self, tenant_id: str, connection_id: str, deadline: float | None) -> bool:
        """Removes the connection and every version; False when there was none."""
        ...

    async def list_ids(self, tenant_id: str, deadline: float | None) -> list[str]:
        """Every connection id of the tenant, sorted."""
        ...


def not_found(tenant_id: str, connection_id: str) -> NotFoundError:
    return NotFoundError(f"no connection {connection_id} for tenant {tenant_id}")
