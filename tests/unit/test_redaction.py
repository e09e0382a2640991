"""Objects that hold secrets never show them in their repr or str (which is what logs and tracebacks
print)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx

from credvault.config import from_env
from credvault.domain.model import AuthHeaders, Credentials
from credvault.providers.spec import VerifyRequest

SECRET = "s3cr3t-value-that-must-not-show"


def test_credentials_hide_values() -> None:
    credentials = Credentials({"api_key": SECRET})
    assert SECRET not in repr(credentials) and SECRET not in str(credentials)
    assert SECRET not in f"{credentials}" and "api_key" in repr(credentials)


def test_auth_headers_hide_values() -> None:
    auth = AuthHeaders({"Authorization": f"Bearer {SECRET}"}, "https://api.example.com", datetime.now(UTC))
    assert SECRET not in repr(auth) and SECRET not in str(auth)


def test_verify_request_hides_credentials_and_headers() -> None:
    asyncio.run(_verify_request_repr())


async def _verify_request_repr() -> None:
    async with httpx.AsyncClient() as http:
        request = VerifyRequest(
            http=http,
            credentials=Credentials({"token": SECRET}),
            config={"site": "acme"},
            base_url="https://api.example.com",
            headers={"Authorization": f"Bearer {SECRET}"},
            timeout=1.0,
            render_base_url=lambda config: "https://api.example.com",
            render_url=lambda name, config: "https://api.example.com",
        )
        assert SECRET not in repr(request)


def test_settings_hide_vault_credentials(tmp_path: Path) -> None:
    settings = from_env(
        {
            "VAULT_ADDR": "http://127.0.0.1:8200",
            "VAULT_TOKEN": SECRET,
            "VAULT_ROLE_ID": "role",
            "VAULT_SECRET_ID": SECRET + "2",
            "CREDVAULT_ACCESS_POLICY": str(tmp_path / "policy.json"),
        }
    )
    assert SECRET not in repr(settings)
