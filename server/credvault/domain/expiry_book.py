"""The index of upcoming expiry moments, in Vault (the re-check schedule's folder): one document per
minute of Unix time that has something due, `expiry/<minute>`:
`{items: [[when, tenant_id, connection_id], ...], owner, lease_until, done}`.

A moment is added (check-and-set) before the connection's write that brings it, so a crash in between
leaves at worst an entry with nothing due. From the start of its minute one replica holds the document
(its claim is written into the same document) and settles each entry at its time; at the minute's end
it marks the document done. Because entries and claim share one document, an entry added while the
minute is under way makes the owner's next check-and-set write fail, so the owner reads it again and
sees the entry; an entry finding the minute done goes into the next one. A full minute (MAX_ITEMS)
also passes its entries on to the next, so a mass expiry spreads over the following minutes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import tenacity

from credvault.domain.errors import ConflictError
from credvault.domain.model import Deadline

Document = dict[str, Any]
Item = tuple[float, str, str]
"""When (Unix seconds), tenant id, connection id."""

WIDTH = 60.0
"""Seconds one document covers."""
MAX_ITEMS = 1000
"""Entries one document holds at most (keeps it far below Vault's request size limit)."""
ADD_TRIES = 30
ADD_WITHIN = 10.0
"""Seconds an addition keeps trying at most (less when the caller's deadline is nearer)."""


class Documents(Protocol):
    """Small JSON documents in Vault with check-and-set (KV v2 versions)."""

    async def read(self, path: str) -> tuple[Document, int] | None: ...

    async def write(self, path: str, data: Document, cas: int) -> int | None: ...

    async def delete(self, path: str) -> None: ...


def minute_of(when: float) -> int:
    return int(when // WIDTH)


@dataclass
class Claim:
    """A minute this replica holds; `version` is what its next check-and-set write must name."""

    number: int
    version: int
    items: list[Item] = field(default_factory=list)


@dataclass(frozen=True)
class Held:
    """Someone else's for now: look again after `until`, unless done."""

    until: float
    done: bool


class ExpiryBook:
    def __init__(
        self, documents: Documents, owner: str, lease: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._docs = documents
        self._owner = owner
        self._lease = lease
        self._clock = clock

    async def add(self, when: float, tenant_id: str, connection_id: str, deadline: Deadline) -> None:
        """Registers an expiry moment (one already past: for the minute under way). Writers adding to
        the same minute at once (a bulk import) take turns, backing off at random, until `deadline`."""
        within = deadline.remaining(cap=ADD_WITHIN)
        retrying = tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(ADD_TRIES) | tenacity.stop_after_delay(within or 0),
            wait=tenacity.wait_random_exponential(multiplier=0.02, max=1.0),
            retry=tenacity.retry_if_result(lambda added: not added),
            retry_error_callback=lambda _state: False,
        )
        if not await retrying(self._add_once, [when, tenant_id, connection_id]):
            raise ConflictError(
                "too many concurrent changes to the expiry schedule; try again", retry_after=1
            )

    async def _add_once(self, item: list[Any]) -> bool:
        """False when another writer came first."""
        number = max(minute_of(item[0]), minute_of(self._clock()))
        while True:
            found = await self._docs.read(_path(number))
            doc, version = found if found is not None else ({}, 0)
            items = list(doc.get("items", []))
            if item in items:
                return True
            if not doc.get("done") and len(items) < MAX_ITEMS:
                break
            number += 1
        return (
            await self._docs.write(_path(number), {**doc, "items": [*items, item]}, cas=version) is not None
        )

    async def claim(self, number: int) -> Claim | Held:
        found = await self._docs.read(_path(number))
        doc, version = found if found is not None else ({}, 0)
        if doc.get("done"):
            return Held(until=0.0, done=True)
        until = float(doc.get("lease_until", 0))
        if doc.get("owner") not in (None, self._owner) and until > self._clock():
            return Held(until=until, done=False)
        claim = Claim(number, version, _items(doc))
        if not await self._write(claim, doc, done=False):
            return Held(until=self._clock() + 1, done=False)  # another replica came first: look again
        return claim

    async def renew(self, claim: Claim, done: bool = False) -> bool:
        """Extends the lease (or marks the minute done). When entries were added meanwhile, updates
        `claim.items` instead and answers True without marking done; False when the minute was lost."""
        doc = {"items": [list(item) for item in claim.items]}
        if await self._write(claim, doc, done):
            return True
        found = await self._docs.read(_path(claim.number))
        if found is None or found[0].get("owner") != self._owner or found[0].get("done"):
            return False
        claim.version = found[1]
        claim.items = _items(found[0])
        return await self._write(claim, found[0], done=False)

    async def refresh(self, claim: Claim) -> bool:
        """Reads the claimed document again, taking in entries added meanwhile; False when the
        minute was lost."""
        found = await self._docs.read(_path(claim.number))
        if found is None or found[0].get("owner") != self._owner or found[0].get("done"):
            return False
        if found[1] != claim.version:
            claim.version = found[1]
            claim.items = _items(found[0])
        return True

    async def release(self, claim: Claim) -> None:
        """Gives the minute up (a replica shutting down), so another takes it at once."""
        doc = {"items": [list(item) for item in claim.items], "owner": None, "lease_until": 0, "done": False}
        await self._docs.write(_path(claim.number), doc, cas=claim.version)

    async def forget(self, number: int) -> None:
        """Removes a finished minute's document (no entry can be added to a minute long past)."""
        await self._docs.delete(_path(number))

    async def _write(self, claim: Claim, doc: Document, done: bool) -> bool:
        new = {**doc, "owner": self._owner, "lease_until": self._clock() + self._lease, "done": done}
        written = await self._docs.write(_path(claim.number), new, cas=claim.version)
        if written is None:
            return False
        claim.version = written
        return True


def _items(doc: Document) -> list[Item]:
    return [(float(w), str(t), str(c)) for w, t, c in doc.get("items", [])]


def _path(number: int) -> str:
    return f"expiry/{number}"
