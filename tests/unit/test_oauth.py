"""Minting OAuth tokens: the variants the facts file leaves open, one mint for concurrent callers, and
minting again before a token expires. Token endpoints are the local stand-ins of tests/fakes/oauth.py
over real HTTP."""

from __future__ import annotations

import asyncio
import base64
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))

from fakes.base import Response
from fakes.oauth import FakeTokenEndpoint

from credvault.domain.model import Credentials, Verdict
from credvault.providers import atlassian_service_account_oauth, jumpcloud_service_account
from credvault.providers.auth import ClientCredentials
from credvault.providers.authorizer import Authorizer, TokenCache, margin
from credvault.providers.oauth import Token, mint, token_of
from credvault.providers.registry import ProviderRegistry

ATLASSIAN = atlassian_service_account_oauth.PROVIDER
JUMPCLOUD = jumpcloud_service_account.PROVIDER


@pytest.fixture
def endpoint(request):
    client_auth, reject_status = request.param
    fake = FakeTokenEndpoint("/oauth/token", client_auth, reject_status=reject_status).start()
    yield fake
    fake.stop()


def _mint(scheme: ClientCredentials, url: str, credentials: dict[str, str]) -> Token | Verdict:
    async def go() -> Token | Verdict:
        async with httpx.AsyncClient() as http:
            return await mint(http, scheme, url, Credentials(credentials), 5.0, "Provider")

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("endpoint", "scheme"),
    [
        ((("basic",), 401), ATLASSIAN.auth),  # Atlassian sends the body first, then basic
        ((("body",), 400), JUMPCLOUD.auth),  # JumpCloud sends basic first, then the body
        ((("body", "basic"), 401), ATLASSIAN.auth),
    ],
    indirect=["endpoint"],
)
def test_the_other_client_authentication_is_tried_on_invalid_client(endpoint, scheme):
    client_id, secret = endpoint.add_client(lambda token: None)
    token = _mint(scheme, endpoint.token_url, {"client_id": client_id, "client_secret": secret})
    assert isinstance(token, Token) and endpoint.mints_for(client_id) == 1
    assert token.lifetime == 3600 and "secret" not in repr(token) and token.value not in repr(token)


@pytest.mark.parametrize("endpoint", [(("basic", "body"), 400), (("body",), 401)], indirect=True)
def test_a_wrong_secret_is_a_rejection_not_an_error(endpoint):
    client_id, _ = endpoint.add_client(lambda token: None)
    verdict = _mint(ATLASSIAN.auth, endpoint.token_url, {"client_id": client_id, "client_secret": "wrong"})
    assert isinstance(verdict, Verdict) and not verdict.ok
    assert verdict.reason == "CREDENTIALS_REJECTED" and "client ID and secret" in verdict.hint
    assert len(endpoint.requests) == 2, "both ways were tried, then it gave up"


@pytest.mark.parametrize(
    ("answer", "reason", "lifetime"),
    [
        (httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 60}), None, 60),
        (
            httpx.Response(200, json={"access_token": "t", "token_type": "bearer", "expires_in": "120"}),
            None,
            120,
        ),
        (httpx.Response(200, json={"access_token": "t"}), None, 3600),
        (httpx.Response(200, text="access_token=t&token_type=bearer&expires_in=30"), None, 30),
        (httpx.Response(200, json={"access_token": "t", "token_type": "mac"}), "UNEXPECTED_RESPONSE", 0),
        (httpx.Response(200, json={"token_type": "Bearer"}), "UNEXPECTED_RESPONSE", 0),
        (httpx.Response(401, json={"error": "invalid_client"}), "CREDENTIALS_REJECTED", 0),
        (httpx.Response(400, json={"error": "unauthorized_client"}), "CREDENTIALS_REJECTED", 0),
        (httpx.Response(401, text="Unauthorized"), "CREDENTIALS_REJECTED", 0),
        (httpx.Response(400, json={"error": "invalid_scope"}), "INSUFFICIENT_SCOPE", 0),
        (httpx.Response(400, json={"error": "unsupported_grant_type"}), "UNEXPECTED_RESPONSE", 0),
    ],
)
def test_token_answers(answer, reason, lifetime):
    result = token_of(answer, JUMPCLOUD.auth, "JumpCloud")
    if reason is None:
        assert isinstance(result, Token) and result.value == "t" and result.lifetime == lifetime
        assert result.expires_at <= datetime.now(UTC) + timedelta(seconds=lifetime)
    else:
        assert isinstance(result, Verdict) and result.reason == reason and result.hint


def test_concurrent_callers_cause_one_mint():
    fake = FakeTokenEndpoint("/oauth2/token", ("basic",), reject_status=400, scope="api").start()
    try:
        client_id, secret = fake.add_client(lambda token: None)
        registry = ProviderRegistry([JUMPCLOUD], {"jumpcloud-service-account:token": fake.token_url})
        credentials = Credentials({"client_id": client_id, "client_secret": secret})

        async def go() -> list[object]:
            async with httpx.AsyncClient() as http:
                authorizer = Authorizer(registry, http, TokenCache())
                calls = [authorizer.authorize(JUMPCLOUD, credentials, {}, 5.0) for _ in range(20)]
                return await asyncio.gather(*calls)

        results = asyncio.run(go())
        assert fake.mints_for(client_id) == 1
        assert len({r.headers["Authorization"] for r in results}) == 1  # type: ignore[attr-defined]
        assert all(r.expires_at is not None for r in results)  # type: ignore[attr-defined]
    finally:
        fake.stop()


def test_a_token_is_minted_again_before_it_expires():
    now = [1_000_000.0]
    cache = TokenCache(clock=lambda: now[0])
    minted: list[Token] = []

    async def fresh_token() -> Token:
        token = Token(f"t{len(minted)}", datetime.fromtimestamp(now[0] + 3600, UTC), 3600)
        minted.append(token)
        return token

    async def run() -> None:
        first = await cache.get("k", fresh_token)
        now[0] += 3600 - margin(3600) - 1  # one second before it is due
        assert await cache.get("k", fresh_token) is first
        now[0] += 2
        second = await cache.get("k", fresh_token)
        assert second is not first and isinstance(second, Token)
        assert second.expires_at.timestamp() - now[0] == pytest.approx(3600)
        assert await cache.get("k", fresh_token, fresh=True) is not second, "a check always mints"

    asyncio.run(run())
    assert len(minted) == 3 and margin(3600) == 300 and margin(60) == 15


def test_a_rejected_mint_drops_the_cached_token():
    cache = TokenCache()
    token = Token("t", datetime.now(UTC) + timedelta(hours=1), 3600)

    async def run() -> None:
        async def good() -> Token:
            return token

        async def bad() -> Verdict:
            return Verdict(ok=False, reason="CREDENTIALS_REJECTED")

        assert await cache.get("k", good) is token
        assert isinstance(await cache.get("k", bad, fresh=True), Verdict)
        assert isinstance(await cache.get("k", bad), Verdict), "the old token went with its secret"

    asyncio.run(run())


def test_a_slow_endpoint_is_unavailable_not_rejected():
    fake = FakeTokenEndpoint("/oauth/token", ("body",), reject_status=401).start()
    try:
        client_id, secret = fake.add_client(lambda token: None)
        fake.override(client_id, Response(503, {"error": "temporarily_unavailable"}))
        from credvault.domain.errors import ProviderUnavailableError

        with pytest.raises(ProviderUnavailableError) as error:
            _mint(ATLASSIAN.auth, fake.token_url, {"client_id": client_id, "client_secret": secret})
        assert secret not in str(error.value) and client_id not in str(error.value)
    finally:
        fake.stop()


def test_basic_client_authentication_is_what_the_facts_show():
    fake = FakeTokenEndpoint("/oauth2/token", ("basic",), reject_status=400, scope="api").start()
    try:
        client_id, secret = fake.add_client(lambda token: None)
        assert isinstance(
            _mint(JUMPCLOUD.auth, fake.token_url, {"client_id": client_id, "client_secret": secret}), Token
        )
        sent = fake.requests[0]
        assert (
            sent.headers["authorization"]
            == "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        )
        assert sent.body.decode() == "grant_type=client_credentials&scope=api"
        assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    finally:
        fake.stop()
