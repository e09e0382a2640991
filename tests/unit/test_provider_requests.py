"""What the providers send and how they read answers, with httpx.MockTransport standing in for the APIs."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from credvault.domain.model import Credentials, Verdict
from credvault.providers import atlassian, atlassian_admin, atlassian_service_account, check, jumpcloud
from credvault.providers.http import reset_seconds
from credvault.providers.registry import ProviderRegistry
from credvault.providers.spec import ProviderSpec, VerifyRequest

Handler = Callable[[httpx.Request], httpx.Response]


def run_verify(
    spec: ProviderSpec, credentials: Mapping[str, str], config: Mapping[str, str], handler: Handler
):
    """Verifies against `handler`; returns the verdict and the requests made."""
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    registry = ProviderRegistry([spec], {})
    secret, normalised = registry.check_input(spec, credentials, config)

    async def go() -> Verdict:
        async with httpx.AsyncClient(transport=httpx.MockTransport(record)) as http:
            request = VerifyRequest(
                http=http,
                credentials=Credentials(secret),
                config=normalised,
                base_url=registry.base_url(spec, normalised),
                headers=spec.authorization(secret, normalised).headers,
                timeout=5.0,
                render_base_url=lambda other: registry.base_url(spec, other),
                render_url=lambda name, other: registry.url(spec, name, other),
            )
            return await check.verify(spec, request)

    return asyncio.run(go()), seen


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_atlassian_sends_basic_auth_to_the_site():
    verdict, seen = run_verify(
        atlassian.PROVIDER,
        {"email": "mia@example.com", "api_token": "tok:en"},
        {"site": "acme"},
        lambda r: httpx.Response(200, json={"accountId": "1", "accountType": "atlassian"}),
    )
    assert verdict.ok and verdict.config == {"product": "jira"}
    assert str(seen[0].url) == "https://acme.atlassian.net/rest/api/3/myself"
    assert seen[0].headers["authorization"] == basic("mia@example.com", "tok:en")
    assert seen[0].headers["accept"] == "application/json"


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (
            httpx.Response(
                401,
                json={"message": "Client must be authenticated to access this resource.", "status-code": 401},
            ),
            "CREDENTIALS_REJECTED",
        ),
        (
            httpx.Response(
                401,
                text="Client must be authenticated to access this resource.",
                headers={"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"},
            ),
            "CREDENTIALS_REJECTED",
        ),
        (httpx.Response(200, json={"type": "anonymous", "displayName": "Anonymous"}), "CREDENTIALS_REJECTED"),
        (
            httpx.Response(
                403, text="", headers={"X-Authentication-Denied-Reason": "CAPTCHA_CHALLENGE; login-url=x"}
            ),
            "CAPTCHA_REQUIRED",
        ),
        (httpx.Response(404, json={"errorMessage": "Site temporarily unavailable"}), "SITE_NOT_FOUND"),
        (httpx.Response(418, text="teapot"), "UNEXPECTED_RESPONSE"),
    ],
)
def test_atlassian_answers(response, reason):
    verdict, _ = run_verify(
        atlassian.PROVIDER,
        {"email": "mia@example.com", "api_token": "t"},
        {"site": "acme", "product": "confluence"},
        lambda r: response,
    )
    assert not verdict.ok and verdict.reason == reason and verdict.hint


def test_service_account_lookup_sends_no_credentials_and_bearer_mode():
    cloud_id = "a436116f-02ce-4520-8fbb-7301462a1674"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/_edge/tenant_info":
            return httpx.Response(200, json={"cloudId": cloud_id})
        return httpx.Response(200, json={"accountId": "1"})

    verdict, seen = run_verify(
        atlassian_service_account.PROVIDER,
        {"email": "bot@serviceaccount.atlassian.com", "api_token": "scoped"},
        {"site": "acme", "auth": "bearer", "product": "confluence"},
        handler,
    )
    assert verdict.ok and verdict.config == {"cloud_id": cloud_id}
    assert str(seen[0].url) == "https://acme.atlassian.net/_edge/tenant_info"
    assert "authorization" not in seen[0].headers
    assert (
        str(seen[1].url) == f"https://api.atlassian.com/ex/confluence/{cloud_id}/wiki/rest/api/user/current"
    )
    assert seen[1].headers["authorization"] == "Bearer scoped"


def test_service_account_refuses_a_cloud_id_it_cannot_use():
    verdict, seen = run_verify(
        atlassian_service_account.PROVIDER,
        {"email": "bot@serviceaccount.atlassian.com", "api_token": "scoped"},
        {"site": "acme"},
        lambda r: httpx.Response(200, json={"cloudId": "../../admin"}),
    )
    assert not verdict.ok and verdict.reason == "UNEXPECTED_RESPONSE" and len(seen) == 1


def test_admin_follows_cursors_against_its_own_base_url():
    pages = {
        "": {
            "data": [{"id": "org-0000a"}],
            "links": {"next": "https://elsewhere.example.com/v1/orgs?cursor=c2"},
        },
        "c2": {"data": [{"id": "org-0000b"}], "links": {"next": None}},
    }
    verdict, seen = run_verify(
        atlassian_admin.PROVIDER,
        {"api_key": "key"},
        {"org_id": "org-0000b"},
        lambda r: httpx.Response(200, json=pages[r.url.params.get("cursor", "")]),
    )
    assert verdict.ok
    assert [r.url.host for r in seen] == ["api.atlassian.com", "api.atlassian.com"]
    assert all(r.headers["authorization"] == "Bearer key" for r in seen)


def test_jumpcloud_lists_orgs_without_the_org_header():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/organizations":
            return httpx.Response(
                200, json={"totalCount": 1, "results": [{"_id": "60259a2ad81e1a474d4e7c83"}]}
            )
        return httpx.Response(404, json={"message": "Organization ID Not Found"})

    verdict, seen = run_verify(
        jumpcloud.PROVIDER, {"api_key": "jca_" + "0" * 36}, {"org_id": "aaaaaaaaaaaaaaaaaaaaaaaa"}, handler
    )
    assert verdict.reason == "ORG_NOT_FOUND" and "60259a2ad81e1a474d4e7c83" in verdict.hint
    assert seen[0].headers["x-org-id"] == "aaaaaaaaaaaaaaaaaaaaaaaa" and "x-org-id" not in seen[1].headers


def test_expiry_parsing():
    parse = atlassian_service_account.parse_expiry
    assert parse("2026-12-31") == (datetime(2026, 12, 31, tzinfo=UTC), "")
    soon = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)
    assert parse(soon.strftime("%Y-%m-%dT%H:%M:%SZ"))[0] == soon
    assert parse(soon.strftime("%Y-%m-%dT%H:%M:%S+02:00"))[0] == soon - timedelta(hours=2)
    assert parse("2026-13-01")[1] and parse("tomorrow")[1]
    assert "365" in parse((datetime.now(UTC) + timedelta(days=400)).date().isoformat())[1]


def test_rate_limit_reset_header():
    assert reset_seconds(None) is None and reset_seconds("soon") is None
    assert reset_seconds("2000-01-01T00:00Z") == 0.0
    later = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%MZ")
    assert 0 < (reset_seconds(later) or 0) <= 300
