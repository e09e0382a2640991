"""The expiry index's check-and-set bookkeeping, with two replicas' books sharing one in-memory
document space (Vault's KV v2 check-and-set semantics) and a clock the test moves: no entry added
while a minute is being worked through is missed, a finished or full minute passes entries on, and a
minute is held by one replica at a time."""

from __future__ import annotations

import asyncio
from typing import Any

from memory_store import Clock, MemoryScheduleDocuments

from credvault.domain.expiry_book import MAX_ITEMS, WIDTH, Claim, ExpiryBook, Held
from credvault.domain.model import Deadline

NO_DEADLINE = Deadline(None)


START = 1000 * WIDTH  # the start of minute 1000


def books(clock: Clock) -> tuple[ExpiryBook, ExpiryBook, MemoryScheduleDocuments]:
    shared = MemoryScheduleDocuments()
    return (
        ExpiryBook(shared, owner="a", lease=15, clock=clock),
        ExpiryBook(shared, owner="b", lease=15, clock=clock),
        shared,
    )


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_one_replica_holds_a_minute_until_its_lease_runs_out():
    clock = Clock(START + 1)
    a, b, _ = books(clock)
    run(a.add(START + 30, "acme", "c1", NO_DEADLINE))
    claim = run(a.claim(1000))
    assert isinstance(claim, Claim) and claim.items == [(START + 30, "acme", "c1")]
    assert run(b.claim(1000)) == Held(until=START + 16, done=False)
    clock.now = START + 17  # a died without renewing: b takes over, with the entries
    taken = run(b.claim(1000))
    assert isinstance(taken, Claim) and taken.items == claim.items
    assert not run(a.renew(claim))


def test_an_entry_added_to_the_minute_under_way_reaches_its_owner():
    clock = Clock(START + 1)
    a, b, _ = books(clock)
    claim = run(a.claim(1000))
    assert isinstance(claim, Claim) and claim.items == []
    run(b.add(START - 5, "acme", "late", NO_DEADLINE))  # a moment already past goes into the minute under way
    assert run(a.refresh(claim)) and claim.items == [(START - 5, "acme", "late")]
    run(b.add(START + 40, "acme", "later", NO_DEADLINE))
    clock.now = START + WIDTH
    assert run(a.renew(claim, done=True))  # the write met the new entry: not done yet, entry taken in
    assert len(claim.items) == 2
    assert run(a.renew(claim, done=True))
    assert run(b.claim(1000)) == Held(until=0.0, done=True)


def test_a_finished_or_full_minute_passes_entries_to_the_next():
    clock = Clock(START + 1)
    a, b, docs = books(clock)
    claim = run(a.claim(1000))
    assert isinstance(claim, Claim)
    assert run(a.renew(claim, done=True))
    run(b.add(START + 2, "acme", "after-done", NO_DEADLINE))
    assert docs.docs["expiry/1001"][0]["items"] == [[START + 2, "acme", "after-done"]]
    docs.docs["expiry/1002"] = ({"items": [[START + 2 * WIDTH, "t", f"c{n}"] for n in range(MAX_ITEMS)]}, 1)
    run(b.add(START + 2 * WIDTH + 1, "acme", "crowded", NO_DEADLINE))
    assert docs.docs["expiry/1003"][0]["items"] == [[START + 2 * WIDTH + 1, "acme", "crowded"]]


def test_adding_twice_stores_once_and_a_released_minute_is_free_at_once():
    clock = Clock(START + 1)
    a, b, docs = books(clock)
    run(a.add(START + 30, "acme", "c1", NO_DEADLINE))
    run(b.add(START + 30, "acme", "c1", NO_DEADLINE))
    assert len(docs.docs["expiry/1000"][0]["items"]) == 1
    claim = run(a.claim(1000))
    assert isinstance(claim, Claim)
    run(a.release(claim))
    assert isinstance(run(b.claim(1000)), Claim)
    run(a.forget(1000))
    assert "expiry/1000" not in docs.docs
