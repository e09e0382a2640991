"""The use cases (create, get, list, update, verify, delete, auth headers) on an in-memory store and a
stand-in provider that answers from the key it is given: fast, no OpenBao, no HTTP. The integration
tests run the same paths against OpenBao and the provider fakes."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from memory_store import MemoryDocuments, MemoryStore

from credvault.domain.cache import HeaderCache
from credvault.domain.errors import (
    AlreadyExistsError,
    ConflictError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    ProviderUnavailableError,
    UnavailableError,
)
from credvault.domain.model import Credentials, Deadline, Status, Verdict
from credvault.domain.service import CredentialService
from credvault.events.journal import Journal
from credvault.providers.registry import ProviderRegistry
from credvault.providers.spec import FieldLocation, FieldSpec, ProviderSpec, VerifyRequest

T = TypeVar("T")
START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
TENANT = "acme"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class StandIn:
    """The provider's side: accepts keys starting `good`, rejects `bad`, is down for `down`, and holds
    `hang` until released. Counts the checks it was asked for."""

    def __init__(self) -> None:
        self.checked: list[str] = []
        self.hanging = asyncio.Event()
        self.release = asyncio.Event()

    async def verify(self, request: VerifyRequest) -> Verdict:
        key = request.credentials["api_key"]
        self.checked.append(key)
        if key.startswith("good"):
            return Verdict(ok=True, reason="VERIFIED", http_status=200)
        if key == "down":
            raise ProviderUnavailableError("Stand-in is down; try again later", reason="PROVIDER_ERROR")
        if key == "hang":
            self.hanging.set()
            await self.release.wait()
            return Verdict(ok=True, reason="VERIFIED", http_status=200)
        return Verdict(ok=False, reason="INVALID_API_KEY", http_status=401, hint="Create a new key.")


def _headers(credentials: Credentials, config: Mapping[str, str]) -> dict[str, str]:
    return {"x-api-key": credentials["api_key"]}


def _expiry(config: Mapping[str, str]) -> datetime | None:
    value = config.get("expires_at")
    return datetime.fromisoformat(value) if value else None


def _spec(stand_in: StandIn) -> ProviderSpec:
    return ProviderSpec(
        id="stand-in",
        display_name="Stand-in",
        auth_mode="api_key_header",
        docs_url="https://example.net/docs",
        fields=(
            FieldSpec("api_key", "API key", "The key.", FieldLocation.CREDENTIALS),
            FieldSpec("expires_at", "Expires at", "When.", FieldLocation.CONFIG, required=False),
        ),
        base_url_template="https://api.example.net/v1",
        build_headers=_headers,
        verify=stand_in.verify,
        expires_at=_expiry,
    )


class World:
    """A service wired to a memory store, a stand-in provider and a clock the test moves."""

    def __init__(self, max_verifications: int = 64, cache_size: int = 0) -> None:
        self.store = MemoryStore()
        self.provider = StandIn()
        self.clock = Clock()
        self.http = httpx.AsyncClient()
        self.service = CredentialService(
            ProviderRegistry([_spec(self.provider)], {}),
            self.store,
            self.http,
            verify_timeout=5.0,
            max_verifications=max_verifications,
            clock=self.clock,
            cache=HeaderCache(size=cache_size, ttl=60),
            journal=Journal(self.store, MemoryDocuments()),
        )

    async def create(self, connection_id: str = "c1", key: str = "good", **config: str) -> Any:
        return await self.service.create(
            TENANT, connection_id, "stand-in", {"api_key": key}, config, {"team": "a"}, Deadline(5)
        )


def run(test: Coroutine[Any, Any, T]) -> T:
    async def wrapped() -> T:
        return await test

    return asyncio.run(wrapped())


def test_create_stores_accepted_credentials_with_their_outcome():
    async def scenario() -> None:
        world = World()
        record = await world.create(key="good-1")
        assert (record.status, record.provider, dict(record.labels)) == (
            Status.ACTIVE,
            "stand-in",
            {"team": "a"},
        )
        assert record.last_outcome is not None and record.last_outcome.reason == "VERIFIED"
        stored = await world.store.read(TENANT, "c1", None)
        assert stored.credentials.reveal() == {"api_key": "good-1"}
        assert stored.record == record
        generated = await world.create("", key="good-2")
        assert generated.connection_id and generated.connection_id != "c1"

    run(scenario())


def test_create_refuses_rejected_credentials_and_stores_nothing():
    async def scenario() -> None:
        world = World()
        with pytest.raises(FailedPreconditionError) as rejected:
            await world.create(key="bad")
        assert rejected.value.reason == "INVALID_API_KEY"
        assert rejected.value.metadata["provider_http_status"] == "401"
        with pytest.raises(ProviderUnavailableError):
            await world.create(key="down")
        assert world.store.entries == {}

    run(scenario())


def test_bad_input_and_taken_ids_change_nothing_and_ask_no_provider():
    async def scenario() -> None:
        world = World()
        await world.create()
        world.provider.checked.clear()
        with pytest.raises(AlreadyExistsError):
            await world.create(key="good-again")
        with pytest.raises(InvalidArgumentError) as invalid:
            await world.service.create(TENANT, "../x", "", {}, {}, {}, Deadline(5))
        assert {v.field for v in invalid.value.violations} >= {"connection_id", "provider"}
        with pytest.raises(InvalidArgumentError):
            await world.service.create(TENANT, "c2", "stand-in", {}, {}, {}, Deadline(5))
        with pytest.raises(FailedPreconditionError) as expired:
            await world.create("c3", expires_at=(START - timedelta(days=1)).isoformat())
        assert expired.value.reason == "CREDENTIALS_EXPIRED"
        assert world.provider.checked == []
        assert list(world.store.entries) == [(TENANT, "c1")]

    run(scenario())


def test_update_verifies_new_credentials_and_a_rejected_change_leaves_the_connection():
    async def scenario() -> None:
        world = World()
        await world.create()
        world.provider.checked.clear()
        relabelled = await world.service.update(TENANT, "c1", {"labels": {"team": "b"}}, Deadline(5))
        assert dict(relabelled.labels) == {"team": "b"}
        assert world.provider.checked == []  # labels alone are not checked with the provider
        before = world.store.entries[(TENANT, "c1")]
        with pytest.raises(FailedPreconditionError):
            await world.service.update(TENANT, "c1", {"credentials": {"api_key": "bad"}}, Deadline(5))
        assert world.store.entries[(TENANT, "c1")] == before
        world.clock.now = START + timedelta(hours=1)
        updated = await world.service.update(
            TENANT, "c1", {"credentials": {"api_key": "good-2"}}, Deadline(5)
        )
        assert updated.updated_at == world.clock.now
        assert (await world.store.read(TENANT, "c1", None)).credentials["api_key"] == "good-2"
        with pytest.raises(InvalidArgumentError):
            await world.service.update(TENANT, "c1", {}, Deadline(5))

    run(scenario())


def test_update_loses_to_a_concurrent_write_and_changes_nothing():
    async def scenario() -> None:
        world = World()
        await world.create()
        store = world.store
        replace = store.replace

        async def another_replica_first(record: Any, credentials: Any, version: int, deadline: Any) -> int:
            stored = await store.read(TENANT, "c1", None)
            await replace(stored.record, stored.credentials, stored.version, None)
            return await replace(record, credentials, version, deadline)

        store.replace = another_replica_first  # type: ignore[method-assign]
        with pytest.raises(ConflictError):
            await world.service.update(TENANT, "c1", {"labels": {"team": "b"}}, Deadline(5))
        assert dict((await store.read(TENANT, "c1", None)).record.labels) == {"team": "a"}

    run(scenario())


def test_verify_records_a_rejection_and_skips_the_provider_once_expired():
    async def scenario() -> None:
        world = World()
        expiry = START + timedelta(days=1)
        await world.create(key="good-rotating", expires_at=expiry.isoformat())
        version, entry = world.store.entries[(TENANT, "c1")]
        world.store.entries[(TENANT, "c1")] = (version, {**entry, "credentials": {"api_key": "revoked"}})
        verified = await world.service.verify(TENANT, "c1", Deadline(5))
        assert verified.status is Status.INVALID
        assert verified.last_outcome is not None and verified.last_outcome.reason == "INVALID_API_KEY"
        assert (await world.service.get(TENANT, "c1", Deadline(5))).status is Status.INVALID
        world.provider.checked.clear()
        world.clock.now = expiry
        expired = await world.service.verify(TENANT, "c1", Deadline(5))
        assert expired.status is Status.EXPIRED
        assert expired.last_outcome is not None and expired.last_outcome.reason == "CREDENTIALS_EXPIRED"
        assert world.provider.checked == []

    run(scenario())


def test_delete_removes_and_reports_a_missing_connection_unless_allowed():
    async def scenario() -> None:
        world = World()
        await world.create()
        await world.service.delete(TENANT, "c1", allow_missing=False, deadline=Deadline(5))
        assert world.store.entries == {}
        with pytest.raises(NotFoundError):
            await world.service.delete(TENANT, "c1", allow_missing=False, deadline=Deadline(5))
        await world.service.delete(TENANT, "c1", allow_missing=True, deadline=Deadline(5))
        with pytest.raises(NotFoundError):
            await world.service.get(TENANT, "c1", Deadline(5))

    run(scenario())


def test_auth_headers_come_from_the_provider_and_are_refused_for_invalid_or_expired_connections():
    async def scenario() -> None:
        world = World()
        expiry = START + timedelta(days=1)
        await world.create(key="good-1", expires_at=expiry.isoformat())
        auth = await world.service.auth_headers(TENANT, "c1", Deadline(5))
        assert (dict(auth.headers), auth.base_url, auth.expires_at) == (
            {"x-api-key": "good-1"},
            "https://api.example.net/v1",
            expiry,
        )
        await world.create("c2", key="good-2")
        version, entry = world.store.entries[(TENANT, "c2")]
        world.store.entries[(TENANT, "c2")] = (version, {**entry, "credentials": {"api_key": "revoked"}})
        await world.service.verify(TENANT, "c2", Deadline(5))
        with pytest.raises(FailedPreconditionError) as invalid:
            await world.service.auth_headers(TENANT, "c2", Deadline(5))
        assert invalid.value.reason == "CONNECTION_INVALID"
        world.clock.now = expiry
        with pytest.raises(FailedPreconditionError) as expired:
            await world.service.auth_headers(TENANT, "c1", Deadline(5))
        assert expired.value.reason == "CREDENTIALS_EXPIRED"

    run(scenario())


def test_cached_auth_headers_skip_the_store_until_the_connection_changes():
    async def scenario() -> None:
        world = World(cache_size=10)
        await world.create(key="good-1")
        first = await world.service.auth_headers(TENANT, "c1", Deadline(5))
        reads = world.store.reads
        assert await world.service.auth_headers(TENANT, "c1", Deadline(5)) == first
        assert world.store.reads == reads
        await world.service.update(TENANT, "c1", {"credentials": {"api_key": "good-2"}}, Deadline(5))
        assert (await world.service.auth_headers(TENANT, "c1", Deadline(5))).headers["x-api-key"] == "good-2"
        await world.service.delete(TENANT, "c1", allow_missing=False, deadline=Deadline(5))
        with pytest.raises(NotFoundError):
            await world.service.auth_headers(TENANT, "c1", Deadline(5))

    run(scenario())


def test_list_pages_through_a_tenants_connections_in_id_order():
    async def scenario() -> None:
        world = World()
        for connection_id in ("c3", "c1", "c2"):
            await world.create(connection_id, key=f"good-{connection_id}")
        await world.service.create("other", "c0", "stand-in", {"api_key": "good"}, {}, {}, Deadline(5))
        first, token = await world.service.list(TENANT, "", 2, "", Deadline(5))
        assert [r.connection_id for r in first] == ["c1", "c2"] and token
        rest, end = await world.service.list(TENANT, "", 2, token, Deadline(5))
        assert ([r.connection_id for r in rest], end) == (["c3"], "")
        with pytest.raises(InvalidArgumentError):
            await world.service.list(TENANT, "", 2, "not-a-token", Deadline(5))
        with pytest.raises(InvalidArgumentError):
            await world.service.list("other", "", 2, token, Deadline(5))  # another listing's token
        with pytest.raises(InvalidArgumentError):
            await world.service.list(TENANT, "no-such-provider", 0, "", Deadline(5))

    run(scenario())


def test_a_hanging_provider_holds_its_verification_slot_and_others_hear_busy():
    async def scenario() -> None:
        world = World(max_verifications=1)
        await world.create("c0", key="good-0")
        hanging = asyncio.create_task(world.create("c1", key="hang"))
        await world.provider.hanging.wait()  # the slot is taken: the check is at the provider
        with pytest.raises(UnavailableError) as busy:
            await world.service.create(TENANT, "c2", "stand-in", {"api_key": "good"}, {}, {}, Deadline(0.5))
        assert busy.value.reason == "VERIFICATIONS_BUSY"
        assert (await world.service.auth_headers(TENANT, "c0", Deadline(5))).headers  # blocks nothing else
        world.provider.release.set()
        assert (await hanging).status is Status.ACTIVE
        assert (await world.create("c2", key="good")).status is Status.ACTIVE

    run(scenario())
