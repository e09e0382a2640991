"""The schedule's arithmetic and its check-and-set bookkeeping, with two replicas' books sharing one
in-memory document space (Vault's KV v2 check-and-set semantics) and a clock the test moves."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from memory_store import Clock, MemoryScheduleDocuments

from credvault.domain.recheck_book import Claim, Held, ScheduleBook
from credvault.domain.recheck_budget import MAX_PAUSE, Paused, ProviderBudgets
from credvault.domain.recheck_timing import Timing


def books(timing: Timing, clock: Clock, lease: float = 15.0) -> list[ScheduleBook]:
    shared = MemoryScheduleDocuments()
    return [ScheduleBook(shared, timing, owner=name, lease=lease, clock=clock) for name in ("a", "b")]


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


DAY = Timing(interval=86400, rate=2, expiry_warning=14 * 86400)


def test_phases_spread_evenly_and_due_times_repeat_every_interval():
    slots = Counter(DAY.slot_of("acme", f"c{n}") for n in range(9600))
    assert len(slots) == DAY.slots == 96 and DAY.width == 900
    assert max(slots.values()) < 2 * min(slots.values())  # about 100 each
    phase = DAY.phase("acme", "c1")
    assert DAY.next_due("acme", "c1", 10 * 86400 + phase) == 10 * 86400 + phase
    assert DAY.next_due("acme", "c1", 10 * 86400 + phase + 1) == 11 * 86400 + phase
    number = DAY.slice_at(10 * 86400 + phase)
    assert number % DAY.slots == DAY.slot_of("acme", "c1")
    assert DAY.due_in(number, "acme", "c1") == 10 * 86400 + phase


def test_next_check_at_is_unset_when_off_or_when_the_connection_expires_first():
    now = datetime(2026, 11, 30, tzinfo=UTC)
    due = DAY.next_check_at("acme", "c1", None, now)
    assert due is not None and now <= due < now + timedelta(days=1)
    assert DAY.next_check_at("acme", "c1", due - timedelta(seconds=1), now) is None
    assert Timing(0, 2, 0).next_check_at("acme", "c1", None, now) is None
    # Created after the slice of its next turn began (that slice's listing missed it): the turn after.
    phase = DAY.phase("acme", "c1")
    turn = datetime.fromtimestamp(10 * 86400 + phase, UTC)
    begun = datetime.fromtimestamp(DAY.slice_start(DAY.slice_at(turn.timestamp())), UTC)
    assert DAY.next_check_at("acme", "c1", None, begun, created_at=begun) == turn + timedelta(days=1)
    earlier = begun - timedelta(seconds=1)
    assert DAY.next_check_at("acme", "c1", None, begun, created_at=earlier) == turn


def test_one_replica_claims_a_slice_and_another_takes_it_over_when_its_lease_runs_out():
    clock = Clock(1_000_000.0)
    a, b = books(DAY, clock)
    number = DAY.slice_at(clock.now)
    first = run(a.claim(number))
    assert isinstance(first, Claim) and not first.taken_over
    held = run(b.claim(number))
    assert isinstance(held, Held) and not held.done and held.until == clock.now + 15
    clock.now += 10
    assert run(a.renew(first))  # still working: the lease moves on
    clock.now += 10
    assert isinstance(run(b.claim(number)), Held)
    clock.now += 30  # a died without renewing
    second = run(b.claim(number))
    assert isinstance(second, Claim) and second.taken_over
    assert not run(a.renew(first))  # a learns it lost the slice
    assert run(b.renew(second, done=True))
    assert run(a.claim(number)) == Held(until=float("inf"), done=True)
    assert run(a.claim(number - DAY.slots)) == Held(until=float("inf"), done=True)  # an older cycle


def test_rate_windows_are_claimed_by_one_replica_each():
    clock = Clock(2_000_000.0)
    timing = Timing(interval=60, rate=3, expiry_warning=0)
    a, b = books(timing, clock)
    granted = []
    for window in range(2_000_000, 2_000_010):
        answers = [
            run(book.take_window("jumpcloud", window, window + 1.0)) for book in (b, a) if window % 2
        ] + [run(book.take_window("jumpcloud", window, window + 1.0)) for book in (a, b) if not window % 2]
        granted.append(sum(answer.ours for answer in answers))
        assert all(answer.retry_at == window + 1.0 for answer in answers if not answer.ours)
    assert granted == [1] * 10


def test_budget_spends_a_window_then_waits_and_a_pause_holds_every_replica():
    clock = Clock(3_000_000.0)
    timing = Timing(interval=60, rate=2, expiry_warning=0)
    a, b = books(timing, clock)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    first, second = ProviderBudgets(a, timing, clock, sleep), ProviderBudgets(b, timing, clock, sleep)

    async def scenario() -> None:
        await first.acquire("jumpcloud")
        await first.acquire("jumpcloud")  # the window's two checks, spread over its first half
        await second.acquire("jumpcloud")  # waits for the next window: `first` holds this one
        assert slept == [0.25, 0.75]
        until = await first.pause("jumpcloud", retry_after=30)
        assert until == clock.now + 30
        await second.acquire("jumpcloud")  # the rest of a window already held may still be spent
        clock.now = math.floor(clock.now) + 1
        with pytest.raises(Paused) as paused:
            await second.acquire("jumpcloud")  # the pause reached the other replica through the book
        assert paused.value.until == until
        assert await first.pause("atlassian-admin", retry_after=10**6) == clock.now + MAX_PAUSE
        clock.now = until
        await second.acquire("jumpcloud")

    run(scenario())
