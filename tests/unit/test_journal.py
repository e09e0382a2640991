"""The event log's promise, on the in-memory store: an acknowledged change always has its event, a change
whose writer died is settled by another replica from the connection's record (committed when the write
landed, dropped when it cannot land), racing deletes make one DELETED, and events of one connection keep
its order. Two `Journal`s over the same documents stand for two replicas."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from memory_store import MemoryDocuments, MemoryStore

from credvault.domain.connections import StoredConnection
from credvault.domain.errors import NotFoundError, OutOfRangeError
from credvault.domain.model import ConnectionRecord, Credentials, Deadline, Status
from credvault.events.changes import Changes
from credvault.events.head import PAGE
from credvault.events.journal import SETTLE_AFTER, WRITE_GRACE, Journal
from credvault.events.model import Event, EventType

T = TypeVar("T")
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SECRET = Credentials({"api_key": "k"})


class ReplicaDied(Exception):
    """The replica making a change is killed at this point."""


class Wall:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Replicas:
    def __init__(self) -> None:
        self.store = MemoryStore()
        self.documents = MemoryDocuments()
        self.wall = Wall()
        self.first = Journal(self.store, self.documents, wall=self.wall)
        self.second = Journal(self.store, self.documents, wall=self.wall)
        self.changes = Changes(self.store, self.first, lambda: NOW)

    async def log(self) -> list[Event]:
        head = await self.second.head()
        return [event async for event in self.second.events_after(0, head)]

    async def settle_later(self, seconds: float) -> None:
        self.wall.now += seconds
        await self.second.settle(await self.second.head())


def record(connection_id: str = "c") -> ConnectionRecord:
    return ConnectionRecord(
        tenant_id="acme",
        connection_id=connection_id,
        provider="jumpcloud",
        config={},
        labels={},
        status=Status.ACTIVE,
        created_at=NOW,
        updated_at=NOW,
    )


def run(test: Callable[[Replicas], Coroutine[Any, Any, T]]) -> T:
    async def wrapped() -> T:
        replicas = Replicas()
        try:
            return await test(replicas)
        finally:
            await replicas.first.close()
            await replicas.second.close()

    return asyncio.run(wrapped())


def dies(before_write: bool, write: Callable[[], Awaitable[int]]) -> Callable[[], Awaitable[int]]:
    """A write whose replica dies before sending it, or right after it landed."""

    async def died() -> int:
        if not before_write:
            await write()
        raise ReplicaDied

    return died


def test_acknowledged_changes_are_in_the_log_in_order():
    async def scenario(replicas: Replicas) -> None:
        created = await replicas.changes.create(record(), SECRET, Deadline(5))
        stored = await replicas.store.read("acme", "c", None)
        updated = replace(created, labels={"a": "b"})
        await replicas.changes.replace(stored, updated, SECRET, EventType.UPDATED, Deadline(5))
        await replicas.changes.delete(await replicas.store.read("acme", "c", None), Deadline(5))
        log = await replicas.log()
        assert [e.type for e in log] == [EventType.CREATED, EventType.UPDATED, EventType.DELETED]
        assert [e.seq for e in log] == [1, 2, 3]

    run(scenario)


def test_a_change_whose_writer_died_after_writing_is_committed_by_another_replica():
    async def scenario(replicas: Replicas) -> None:
        journal = replicas.first
        new = replace(record(), generation="g1")
        event = replicas.changes.event(EventType.CREATED, new)
        new = replace(new, event_ids=(event.event_id,))

        async def write() -> int:
            return await replicas.store.create(new, SECRET, None)

        with pytest.raises(ReplicaDied):
            await journal.change(event, "g1", 0, dies(False, write), Deadline(5), new.event_ids)
        assert await replicas.log() == []  # not yet: the intent waits for its writer a moment
        await replicas.settle_later(SETTLE_AFTER)
        assert [e.event_id for e in await replicas.log()] == [event.event_id]

    run(scenario)


def test_a_change_whose_writer_died_before_writing_is_dropped_once_it_cannot_land():
    async def scenario(replicas: Replicas) -> None:
        event = replicas.changes.event(EventType.CREATED, record())

        async def write() -> int:
            raise AssertionError("never sent")

        with pytest.raises(ReplicaDied):
            await replicas.first.change(event, "g1", 0, dies(True, write), Deadline(5))
        await replicas.settle_later(SETTLE_AFTER)
        assert (await replicas.second.head()).pending  # its write might still be on its way
        await replicas.settle_later(5 + WRITE_GRACE)
        head = await replicas.second.head()
        assert head.pending == [] and await replicas.log() == []

    run(scenario)


def test_an_update_beaten_by_another_write_is_dropped_at_once():
    async def scenario(replicas: Replicas) -> None:
        await replicas.changes.create(record(), SECRET, Deadline(5))
        stale = await replicas.store.read("acme", "c", None)
        await replicas.changes.replace(
            stale, replace(stale.record, labels={"x": "1"}), SECRET, EventType.UPDATED, Deadline(5)
        )
        lost = replace(stale.record, labels={"x": "2"})
        event = replicas.changes.event(EventType.UPDATED, lost)

        async def never() -> int:
            raise AssertionError("never sent")

        with pytest.raises(ReplicaDied):
            await replicas.first.change(event, lost.generation, stale.version, dies(True, never), Deadline(5))
        await replicas.settle_later(SETTLE_AFTER)
        assert (await replicas.second.head()).pending == []
        assert [e.type for e in await replicas.log()] == [EventType.CREATED, EventType.UPDATED]

    run(scenario)


def test_racing_deletes_make_one_deleted():
    async def scenario(replicas: Replicas) -> None:
        await replicas.changes.create(record(), SECRET, Deadline(5))
        stored = await replicas.store.read("acme", "c", None)
        other = Changes(replicas.store, replicas.second, lambda: NOW)
        outcomes = await asyncio.gather(
            replicas.changes.delete(stored, Deadline(5)),
            other.delete(StoredConnection(stored.record, SECRET, stored.version), Deadline(5)),
            return_exceptions=True,
        )
        assert sum(isinstance(o, NotFoundError) for o in outcomes) <= 1
        await replicas.settle_later(SETTLE_AFTER)
        assert [e.type for e in await replicas.log()] == [EventType.CREATED, EventType.DELETED]

    run(scenario)


def test_old_pages_are_pruned_and_a_cursor_into_them_is_out_of_range():
    async def scenario(replicas: Replicas) -> None:
        for n in range(3 * PAGE):
            await replicas.changes.create(record(f"c{n}"), SECRET, Deadline(5))
        await asyncio.sleep(0)  # let the writer seal the full pages it queued
        assert len(await replicas.log()) == 3 * PAGE
        head = await replicas.second.head()
        assert head.sealed >= 1  # the oldest events live in pages of their own
        await replicas.second.prune(head, retention=10**9)  # all younger than that: nothing goes
        assert len(await replicas.log()) == 3 * PAGE
        await replicas.second.prune(head, retention=1.0)  # every sealed page is past it
        head = await replicas.second.head()
        assert head.first == head.sealed * PAGE + 1
        with pytest.raises(OutOfRangeError):
            [event async for event in replicas.second.events_after(0, head)]
        kept = [event async for event in replicas.second.events_after(head.first - 1, head)]
        assert [e.seq for e in kept] == list(range(head.first, 3 * PAGE + 1))

    run(scenario)
