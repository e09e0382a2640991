"""The Connect use cases on an in-memory session store (with check-and-set like Vault's), the in-memory
connection store and a stand-in provider: what no browser test can time, such as two submissions at
once, and the rules that make a session single-use."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from test_service import TENANT, World, run

from credvault.domain.connect import ConnectPage, ConnectService
from credvault.domain.connect_session import ConnectSessionRecord, SessionState
from credvault.domain.errors import (
    AlreadyExistsError,
    ConflictError,
    CredvaultError,
    FailedPreconditionError,
    NotFoundError,
)
from credvault.domain.model import Deadline


class MemorySessions:
    """Sessions by id, each with a version that every write must name (check-and-set), and the time
    of its last write."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.entries: dict[str, tuple[ConnectSessionRecord, int]] = {}
        self.written: dict[str, datetime] = {}
        self._clock = clock

    async def create(self, record: ConnectSessionRecord, deadline: float | None) -> int:
        if record.session_id in self.entries:
            raise AlreadyExistsError("exists")
        self.entries[record.session_id] = (record, 1)
        self.written[record.session_id] = self._clock()
        return 1

    async def delete_unchanged_since(self, cutoff: datetime) -> int:
        old = [session_id for session_id, written in self.written.items() if written < cutoff]
        for session_id in old:
            del self.entries[session_id], self.written[session_id]
        return len(old)

    async def read(self, session_id: str, deadline: float | None) -> tuple[ConnectSessionRecord, int]:
        if session_id not in self.entries:
            raise NotFoundError("no such session", reason="CONNECT_SESSION_NOT_FOUND")
        return self.entries[session_id]

    async def replace(self, record: ConnectSessionRecord, version: int, deadline: float | None) -> int:
        if self.entries[record.session_id][1] != version:
            raise ConflictError("changed meanwhile")
        self.entries[record.session_id] = (record, version + 1)
        self.written[record.session_id] = self._clock()
        return version + 1


class Connect:
    def __init__(self) -> None:
        self.world = World()
        self.sessions = MemorySessions(self.world.clock)
        self.events: Counter[str] = Counter()
        self.service = ConnectService(
            self.world.service,
            self.sessions,
            ConnectPage("https://connect.example.com", ("https://app.example.com",)),
            submit_timeout=5.0,
            clock=self.world.clock,
            observe_session=lambda event: self.events.update([event]),
            observe_submission=lambda outcome: self.events.update([f"submission {outcome}"]),
        )

    async def opened(self, **fields: object) -> tuple[str, str, str]:
        """A new session whose link was opened: its id, the link's token and the browser cookie."""
        record, url = await self.service.create_session(
            TENANT,
            providers=["stand-in"],
            connection_id=str(fields.get("connection_id", "")),
            labels={},
            return_url="",
            ttl=fields.get("ttl"),  # type: ignore[arg-type]
            deadline=Deadline(5),
        )
        token = url.split("token=")[1]
        _, cookie = await self.service.exchange(record.session_id, token, Deadline(5))
        return record.session_id, token, cookie

    async def submit(self, session_id: str, cookie: str, key: str) -> ConnectSessionRecord:
        return await self.service.submit(session_id, cookie, "stand-in", {"api_key": key}, {})


def reason(error: pytest.ExceptionInfo[CredvaultError]) -> str:
    return error.value.reason


def test_a_link_is_exchanged_once_and_only_with_its_token():
    async def scenario() -> None:
        connect = Connect()
        session_id, token, cookie = await connect.opened()
        with pytest.raises(FailedPreconditionError) as again:
            await connect.service.exchange(session_id, token, Deadline(5))
        assert reason(again) == "CONNECT_LINK_ALREADY_OPENED"
        for wrong in ("", token[:-1] + "x"):
            with pytest.raises(NotFoundError):
                await connect.service.landing(session_id, wrong, Deadline(5))
        with pytest.raises(NotFoundError):
            await connect.service.resume(session_id, token, Deadline(5))  # the token is no cookie
        assert (await connect.service.resume(session_id, cookie, Deadline(5))).state is SessionState.PENDING
        stored, _ = connect.sessions.entries[session_id]
        assert token not in repr(stored.to_dict()) and cookie not in repr(stored.to_dict())

    run(scenario())


def test_a_second_submission_waits_for_the_first_and_a_completed_session_refuses_more():
    async def scenario() -> None:
        connect = Connect()
        session_id, _, cookie = await connect.opened()
        first = asyncio.create_task(connect.submit(session_id, cookie, "hang"))
        await connect.world.provider.hanging.wait()
        with pytest.raises(ConflictError) as busy:
            await connect.submit(session_id, cookie, "good-2")
        assert reason(busy) == "CONNECT_SUBMISSION_IN_PROGRESS"
        connect.world.provider.release.set()
        done = await first
        assert done.state is SessionState.COMPLETED and done.provider == "stand-in"
        with pytest.raises(FailedPreconditionError) as used:
            await connect.submit(session_id, cookie, "good-3")
        assert reason(used) == "CONNECT_SESSION_COMPLETED"
        assert connect.world.provider.checked == ["hang"]  # the others never reached the provider
        assert connect.events["completed"] == 1 and connect.events["submission OK"] == 1

    run(scenario())


def test_expiry_is_recorded_once():
    async def scenario() -> None:
        connect = Connect()
        session_id, _, cookie = await connect.opened(ttl=timedelta(seconds=1))
        connect.world.clock.now += timedelta(seconds=1)
        for _ in range(2):
            got = await connect.service.get_session(TENANT, session_id, Deadline(5))
            assert got.state is SessionState.EXPIRED
        with pytest.raises(FailedPreconditionError) as late:
            await connect.submit(session_id, cookie, "good")
        assert reason(late) == "CONNECT_SESSION_EXPIRED"
        assert connect.events["expired"] == 1

    run(scenario())


def test_reconnect_is_decided_when_the_session_is_made():
    async def scenario() -> None:
        connect = Connect()
        await connect.world.create("c1", key="good-old")
        session_id, _, cookie = await connect.opened(connection_id="c1")
        assert connect.sessions.entries[session_id][0].reconnect
        with pytest.raises(FailedPreconditionError):
            await connect.submit(session_id, cookie, "bad")  # rejected: the old key stays
        stored = await connect.world.store.read(TENANT, "c1", None)
        assert stored.credentials["api_key"] == "good-old"
        await connect.submit(session_id, cookie, "good-new")
        stored = await connect.world.store.read(TENANT, "c1", None)
        assert stored.credentials["api_key"] == "good-new"

    run(scenario())


def test_ended_sessions_are_forgotten_a_day_after_they_could_last_change():
    async def scenario() -> None:
        connect = Connect()
        old, _, _ = await connect.opened(ttl=timedelta(hours=24))
        connect.world.clock.now += timedelta(hours=47)
        recent, _, _ = await connect.opened()
        assert await connect.service.sweep() == 0  # 24 h to expire, then a day kept: not yet
        connect.world.clock.now += timedelta(hours=1, seconds=1)
        assert await connect.service.sweep() == 1
        with pytest.raises(NotFoundError):
            await connect.service.get_session(TENANT, old, Deadline(5))
        assert (await connect.service.get_session(TENANT, recent, Deadline(5))).state is SessionState.EXPIRED

    run(scenario())


def test_without_a_page_there_are_no_sessions():
    async def scenario() -> None:
        connect = Connect()
        connect.service.page = None
        with pytest.raises(FailedPreconditionError) as disabled:
            await connect.opened()
        assert reason(disabled) == "CONNECT_DISABLED"

    run(scenario())
