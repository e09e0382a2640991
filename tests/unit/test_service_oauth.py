"""The use cases with an OAuth 2.0 client-credentials provider, on the in-memory store with
httpx.MockTransport standing in for the token endpoint and the API: a token per replica, one mint for
concurrent callers, and a secret the endpoint rejects turning the connection INVALID."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import parse_qsl

import httpx
import pytest
from memory_store import MemoryDocuments, MemoryStore

from credvault.domain.cache import HeaderCache
from credvault.domain.errors import FailedPreconditionError
from credvault.domain.model import Deadline, Status
from credvault.domain.service import CredentialService
from credvault.events.journal import Journal
from credvault.events.model import EventType
from credvault.providers import Check, ClientCredentials, ProviderSpec, Rule, credential
from credvault.providers.authorizer import TokenCache, margin
from credvault.providers.registry import ProviderRegistry

SPEC = ProviderSpec(
    id="demo-oauth",
    display_name="Demo",
    docs_url="https://example.net/docs",
    base_url_template="https://api.example.net",
    fields=(credential("client_id", "client ID", "Id."), credential("client_secret", "secret", "Secret.")),
    auth=ClientCredentials("https://auth.example.net/token"),
    check=Check("/me", rules=(Rule(401, "TOKEN_REFUSED", "Try again."),)),
)


class Provider:
    """The token endpoint and the API: mints `tok-N` for the client while `secret` is right."""

    def __init__(self) -> None:
        self.secret = "s3cret"
        self.minted: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example.net":
            form = dict(parse_qsl(request.content.decode()))
            if form.get("client_secret") != self.secret:
                return httpx.Response(401, json={"error": "invalid_client"})
            self.minted.append(f"tok-{len(self.minted)}")
            return httpx.Response(200, json={"access_token": self.minted[-1], "expires_in": 3600})
        ok = request.headers.get("authorization") == f"Bearer {self.minted[-1]}"
        return httpx.Response(200 if ok else 401, json={})


def replica(
    store: MemoryStore, provider: Provider, tokens: TokenCache | None = None, journal: Journal | None = None
) -> CredentialService:
    return CredentialService(
        ProviderRegistry([SPEC], {}),
        store,
        httpx.AsyncClient(transport=httpx.MockTransport(provider)),
        verify_timeout=5.0,
        cache=HeaderCache(size=0, ttl=0),
        journal=journal or Journal(store, MemoryDocuments()),
        tokens=tokens,
    )


async def create(service: CredentialService) -> None:
    credentials = {"client_id": "app", "client_secret": "s3cret"}
    await service.create("acme", "c", "demo-oauth", credentials, {}, {}, Deadline(5))


def test_each_replica_mints_once_for_all_its_callers():
    async def scenario() -> None:
        store, provider = MemoryStore(), Provider()
        first = replica(store, provider)
        await create(first)
        assert provider.minted == ["tok-0"]
        assert (await first.auth_headers("acme", "c", Deadline(5))).headers["Authorization"] == "Bearer tok-0"
        second = replica(store, provider)  # another replica: its own tokens, in its own memory
        answers = await asyncio.gather(*[second.auth_headers("acme", "c", Deadline(5)) for _ in range(25)])
        assert provider.minted == ["tok-0", "tok-1"]
        assert {a.headers["Authorization"] for a in answers} == {"Bearer tok-1"}
        assert all(a.expires_at is not None for a in answers)

    asyncio.run(scenario())


def test_a_rejected_secret_when_handing_out_headers_makes_the_connection_invalid():
    async def scenario() -> None:
        store, provider, now = MemoryStore(), Provider(), [time.time()]
        journal = Journal(store, MemoryDocuments())
        service = replica(store, provider, TokenCache(clock=lambda: now[0]), journal)
        await create(service)
        provider.secret = "rotated"
        assert (await service.auth_headers("acme", "c", Deadline(5))).headers[
            "Authorization"
        ] == "Bearer tok-0"
        now[0] += 3600 - margin(3600) + 1  # the token is due: the next call mints with the stored secret
        with pytest.raises(FailedPreconditionError) as refused:
            await service.auth_headers("acme", "c", Deadline(5))
        assert refused.value.reason == "CONNECTION_INVALID" and "s3cret" not in str(refused.value)
        record = await service.get("acme", "c", Deadline(5))
        assert record.status is Status.INVALID and record.last_outcome is not None
        assert record.last_outcome.reason == "CREDENTIALS_REJECTED"
        head = await journal.head()  # watchers and webhooks hear of it like any rejected check
        log = [event.type async for event in journal.events_after(0, head)]
        assert log == [EventType.CREATED, EventType.INVALIDATED]

    asyncio.run(scenario())
