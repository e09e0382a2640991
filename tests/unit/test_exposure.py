"""Start-up rules for the gRPC port: which addresses count as local, when caller authentication is
required, and which security settings belong together."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credvault.config import from_env
from credvault.domain.errors import ConfigError
from credvault.edge.access import EMPTY_DIGEST, AccessPolicy
from credvault.edge.transport import check_exposure, is_loopback


@pytest.mark.parametrize(
    ("listen", "local"),
    [
        ("127.0.0.1:50051", True),
        ("127.0.0.2:0", True),
        ("[::1]:50051", True),
        ("localhost:50051", True),
        ("unix:/run/credvault.sock", True),
        ("0.0.0.0:50051", False),
        ("[::]:50051", False),
        (":50051", False),
        ("10.0.0.5:50051", False),
        ("credvault.internal:50051", False),
    ],
)
def test_loopback_addresses(listen: str, local: bool) -> None:
    assert is_loopback(listen) is local


def test_exposure_rules(tmp_path: Path) -> None:
    assert "caller authentication is OFF" in (check_exposure(from_env({})) or "")
    with pytest.raises(ConfigError, match="CREDVAULT_ALLOW_UNAUTHENTICATED"):
        check_exposure(from_env({"CREDVAULT_LISTEN": "0.0.0.0:50051"}))
    allowed = from_env({"CREDVAULT_LISTEN": "0.0.0.0:50051", "CREDVAULT_ALLOW_UNAUTHENTICATED": "true"})
    assert "OFF" in (check_exposure(allowed) or "")
    policy_env = {"CREDVAULT_LISTEN": "0.0.0.0:50051", "CREDVAULT_ACCESS_POLICY": str(tmp_path / "p")}
    with pytest.raises(ConfigError, match="CREDVAULT_ALLOW_PLAINTEXT"):
        check_exposure(from_env(policy_env))
    assert check_exposure(from_env({**policy_env, "CREDVAULT_ALLOW_PLAINTEXT": "true"})) is None
    tls = {"CREDVAULT_TLS_CERT": "c.pem", "CREDVAULT_TLS_KEY": "k.pem"}
    assert check_exposure(from_env({**dict(policy_env), **tls})) is None
    assert check_exposure(from_env({**dict(policy_env), "CREDVAULT_LISTEN": "127.0.0.1:0"})) is None


@pytest.mark.parametrize(
    ("addr", "refused"),
    [
        ("http://127.0.0.1:8200", False),
        ("http://localhost:8200", False),
        ("http://[::1]:8200", False),
        ("https://vault.example.com:8200", False),
        ("http://vault.example.com:8200", True),
        ("https://a.example.com,http://10.0.0.7:8200", True),
    ],
)
def test_plain_http_vault_beyond_loopback(addr: str, refused: bool) -> None:
    env = {"VAULT_ADDR": addr, "VAULT_TOKEN": "t"}
    if refused:
        with pytest.raises(ConfigError, match="CREDVAULT_ALLOW_PLAINTEXT"):
            check_exposure(from_env(env))
        check_exposure(from_env({**env, "CREDVAULT_ALLOW_PLAINTEXT": "true"}))
    else:
        check_exposure(from_env(env))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CREDVAULT_TLS_CERT": "c.pem"}, "must be set together"),
        ({"CREDVAULT_HEALTHCHECK_CERT": "c.pem"}, "must be set together"),
        ({"CREDVAULT_TLS_CLIENT_CA": "ca.pem"}, "needs CREDVAULT_TLS_CERT"),
        (
            {"CREDVAULT_TLS_CERT": "c", "CREDVAULT_TLS_KEY": "k", "CREDVAULT_TLS_CLIENT_CA": "ca"},
            "set CREDVAULT_ACCESS_POLICY",
        ),
        ({"CREDVAULT_ALLOW_UNAUTHENTICATED": "maybe"}, "true or false"),
    ],
)
def test_security_settings_that_do_not_fit_together(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_env(env)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "not valid JSON"),
        ({"callers": {}}, "must be a JSON object"),
        ({"callers": {"w": {"tenants": ["*"], "methods": ["GetAuthHeader"]}}}, "are not methods"),
        ({"callers": {"w": {"tenants": ["../x"], "methods": ["*"]}}}, "are not tenant ids"),
        (
            {"callers": {"w": {"tenants": ["*"], "methods": ["*"], "tokens_sha256": ["secret"]}}},
            "never tokens",
        ),
        (
            {"callers": {"w": {"tenants": ["*"], "methods": ["*"], "tokens_sha256": [EMPTY_DIGEST]}}},
            "SHA-256 of the empty string",
        ),
        ({"callers": {"w": {"tenants": ["*"], "methods": ["*"], "tokens_sha256": []}}}, "is empty"),
        ({"callers": {"w": {"tenants": "*", "methods": ["*"]}}}, "must be a list of strings"),
        ({"callers": {"w": {"tenants": ["*"], "methods": ["*"], "token": "x"}}}, "unknown keys"),
    ],
)
def test_policy_mistakes_are_named(tmp_path: Path, document: object, message: str) -> None:
    path = tmp_path / "policy.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    with pytest.raises(ConfigError, match=message):
        AccessPolicy.load(path)
    with pytest.raises(ConfigError, match="cannot be read"):
        AccessPolicy.load(tmp_path / "missing.json")
