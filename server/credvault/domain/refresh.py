"""Refreshing cached auth headers in the background: when a cached entry is due, one read per
connection at a time brings it up to date, while callers keep getting the cached headers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from credvault.domain.cache import HeaderCache, Key
from credvault.domain.errors import CredvaultError, FailedPreconditionError, NotFoundError
from credvault.domain.model import AuthHeaders

log = logging.getLogger(__name__)


class HeaderRefresh:
    """Re-reads cached connections through `load`, which raises the use cases' errors."""

    def __init__(self, cache: HeaderCache, load: Callable[[Key], Awaitable[AuthHeaders]]) -> None:
        self._cache = cache
        self._load = load
        self._refreshing: dict[Key, asyncio.Task[None]] = {}

    def soon(self, key: Key) -> None:
        """Starts a background re-read of `key`, unless one is already running."""
        if key not in self._refreshing:
            task = asyncio.get_running_loop().create_task(self._refresh(key))
            self._refreshing[key] = task
            task.add_done_callback(lambda _: self._refreshing.pop(key, None))

    async def close(self) -> None:
        """Cancels the re-reads in flight and waits for them to end (at shutdown)."""
        tasks = list(self._refreshing.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _refresh(self, key: Key) -> None:
        with self._cache.reading(key) as ticket:
            try:
                auth = await self._load(key)
            except (NotFoundError, FailedPreconditionError):
                self._cache.invalidate(key)  # deleted, expired or invalid: the next call reads and says so
            except CredvaultError as error:  # Vault trouble: the entry still expires at its TTL
                log.warning("could not refresh cached auth headers (%s)", error.reason)
            except Exception as error:  # a background task: logged by type only (its text may hold a secret)
                log.error("could not refresh cached auth headers (unexpected %s)", type(error).__name__)
            else:
                self._cache.put(key, auth, ticket)
