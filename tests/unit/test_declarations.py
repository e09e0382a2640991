"""Providers as data: auth schemes build what requests carry, a check table turns answers into verdicts,
and a spec that declares something it can't do is refused when it is loaded."""

from __future__ import annotations

import base64
from dataclasses import replace

import httpx
import pytest

from credvault.domain.errors import ConfigError
from credvault.domain.model import Credentials
from credvault.providers import (
    Basic,
    Bearer,
    ByConfig,
    Check,
    ClientCredentials,
    Header,
    ProviderSpec,
    QueryParam,
    Rule,
    credential,
    setting,
)
from credvault.providers.check import verdict_of
from credvault.providers.registry import ProviderRegistry, check_spec

SECRET = Credentials({"user": "mia", "key": "k3y"})


def spec(**changes: object) -> ProviderSpec:
    base = ProviderSpec(
        id="demo",
        display_name="Demo",
        docs_url="https://example.com/docs",
        base_url_template="https://api.example.com",
        fields=(
            credential("user", "user", "The user."),
            credential("key", "key", "The key."),
            setting("mode", "mode", "How."),
        ),
        auth=Header("x-key", field="key"),
        headers={"Accept": "application/json"},
        config_headers={"x-mode": "mode"},
        check=Check("/me"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("auth", "mode", "headers", "query"),
    [
        (Header("x-key", field="key"), "api_key_header", {"x-key": "k3y"}, {}),
        (
            Basic("user", "key"),
            "basic",
            {"Authorization": "Basic " + base64.b64encode(b"mia:k3y").decode()},
            {},
        ),
        (Bearer("key"), "bearer", {"Authorization": "Bearer k3y"}, {}),
        (QueryParam("api_key", field="key"), "query_param", {}, {"api_key": "k3y"}),
    ],
)
def test_schemes_build_what_requests_carry(auth, mode, headers, query):
    declared = spec(auth=auth)
    check_spec(declared, "test")
    authorization = declared.authorization(SECRET, {"mode": "fast"})
    assert declared.auth_mode == mode
    assert dict(authorization.headers) == {**headers, "Accept": "application/json", "x-mode": "fast"}
    assert dict(authorization.query_params) == query
    assert "k3y" not in repr(authorization)


def test_config_chooses_among_schemes():
    declared = spec(auth=ByConfig("mode", {"basic": Basic("user", "key"), "bearer": Bearer("key")}, "basic"))
    assert declared.auth_mode == "basic,bearer"
    assert declared.authorization(SECRET, {"mode": "bearer"}).headers["Authorization"] == "Bearer k3y"
    assert declared.authorization(SECRET, {}).headers["Authorization"].startswith("Basic ")


def test_client_credentials_send_the_minted_token_and_have_a_token_url():
    declared = spec(
        fields=(credential("client_id", "id", "Id."), credential("client_secret", "secret", "Secret.")),
        auth=ClientCredentials("https://auth.example.com/token"),
        config_headers={},
    )
    check_spec(declared, "test")
    assert declared.auth_mode == "oauth2_client_credentials" and declared.mints_tokens
    assert declared.urls["token"] == "https://auth.example.com/token"
    assert declared.authorization(Credentials({}), {}, token="t0k").headers["Authorization"] == "Bearer t0k"
    registry = ProviderRegistry([declared], {"demo:token": "http://127.0.0.1:9/token"})
    assert registry.url(declared, "token", {}) == "http://127.0.0.1:9/token"


RULES = (
    Rule(401, "ORG_REQUIRED", "set the org", body="organization"),
    Rule(401, "REJECTED", "new key"),
    Rule(404, "ORG_NOT_FOUND", "check the org", config="org"),
    Rule((403, 423), "LOCKED", "unlock", header=("x-reason", "locked")),
    Rule(200, "VERIFIED", body='"active":true'),
    Rule(200, "INACTIVE", "reactivate"),
)


@pytest.mark.parametrize(
    ("response", "config", "ok", "reason"),
    [
        (httpx.Response(200, json={"active": True}), {}, True, "VERIFIED"),
        (httpx.Response(200, json={"active": False}), {}, False, "INACTIVE"),
        (httpx.Response(204), {}, True, "VERIFIED"),
        (httpx.Response(401, json={"message": "No Organization selected"}), {}, False, "ORG_REQUIRED"),
        (httpx.Response(401, text="nope"), {}, False, "REJECTED"),
        (httpx.Response(404), {"org": "o1"}, False, "ORG_NOT_FOUND"),
        (httpx.Response(404), {}, False, "UNEXPECTED_RESPONSE"),
        (httpx.Response(423, headers={"X-Reason": "Account LOCKED"}), {}, False, "LOCKED"),
        (httpx.Response(403), {}, False, "UNEXPECTED_RESPONSE"),
        (httpx.Response(302, headers={"Location": "https://elsewhere"}), {}, False, "UNEXPECTED_REDIRECT"),
    ],
)
def test_the_table_decides_in_order(response, config, ok, reason):
    verdict = verdict_of(response, RULES, config, "Demo")
    assert (verdict.ok, verdict.reason) == (ok, reason) and verdict.http_status == response.status_code
    assert verdict.ok or verdict.hint


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"auth": None}, "declare auth"),
        ({"check": None}, "declare check"),
        ({"auth": Bearer("token")}, "not credential fields"),
        ({"auth": ByConfig("how", {"b": Bearer("key")}, "b")}, "not a config field"),
        ({"config_headers": {"x-org": "org"}}, "config_headers"),
        (
            {
                "fields": (credential("client_id", "id", "Id."), credential("client_secret", "s", "S.")),
                "config_headers": {},
                "auth": ClientCredentials("https://auth.example.com/token", client_auth=("header",)),
            },
            "client_auth",
        ),
    ],
)
def test_a_spec_that_cannot_work_is_refused_at_load(changes, problem):
    with pytest.raises(ConfigError, match=problem):
        check_spec(spec(**changes), "plugin 'demo'")


def test_unknown_url_names_are_refused():
    with pytest.raises(ConfigError, match="does not have"):
        ProviderRegistry([spec()], {"demo:token": "http://127.0.0.1:9/token"})
