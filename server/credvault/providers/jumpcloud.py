"""JumpCloud: an administrator's API key as `x-api-key`; `x-org-id` picks the organization for
multi-tenant (MSP) admins. v1 (`{base_url}/systemusers`) and v2 (`{base_url}/v2/usergroups`) share one
base URL, `https://console.jumpcloud.com/api` (`console.eu.jumpcloud.com` with `region: eu`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from functools import partial

from credvault.domain.model import Verdict
from credvault.providers import guides
from credvault.providers.auth import Header
from credvault.providers.check import Check, Rule, run_check
from credvault.providers.http import send
from credvault.providers.spec import ProviderSpec, VerifyRequest, credential, setting

NAME = "JumpCloud"
OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")
CONSOLES = {"us": "console.jumpcloud.com", "eu": "console.eu.jumpcloud.com"}
ORG_NOT_FOUND_HINT, FORBIDDEN_HINT = guides.JUMPCLOUD_ORG_NOT_FOUND_HINT, guides.JUMPCLOUD_FORBIDDEN_HINT


def check(rejected_hint: str, forbidden_hint: str = FORBIDDEN_HINT) -> Check:
    """Reads one user id: proves the credentials and that they may act on the org (`/organizations`
    would answer even a multi-tenant key that still needs an org id)."""
    return Check(
        "/systemusers",
        params={"limit": "1", "fields": "_id"},
        rules=(
            Rule(401, "ORG_ID_REQUIRED", guides.JUMPCLOUD_ORG_REQUIRED_HINT, body="organization"),
            Rule(401, "CREDENTIALS_REJECTED", rejected_hint),
            Rule(400, "ORG_ID_MALFORMED", ORG_NOT_FOUND_HINT, config="org_id"),
            Rule(404, "ORG_NOT_FOUND", ORG_NOT_FOUND_HINT, config="org_id"),
            Rule(403, "IP_BLOCKED", FORBIDDEN_HINT, body="blocked"),
            Rule(403, "INSUFFICIENT_PERMISSIONS", forbidden_hint),
        ),
    )


async def verify(check: Check, request: VerifyRequest) -> Verdict:
    """The table; if org_id is not theirs, the hint names the orgs they manage (from /organizations)."""
    verdict = await run_check(request, check, NAME)
    if verdict.reason not in ("ORG_ID_MALFORMED", "ORG_NOT_FOUND"):
        return verdict
    headers = {k: v for k, v in request.headers.items() if k.lower() != "x-org-id"}
    url, params = f"{request.base_url}/organizations", {"limit": "100", "fields": "_id"}
    response = await send(request, "GET", url, headers=headers, params=params, provider_name=NAME)
    try:
        orgs = [o.get("_id") for o in response.json()["results"]] if response.is_success else []
    except (ValueError, KeyError, TypeError, AttributeError):  # not the JSON JumpCloud documents
        orgs = []
    named = ", ".join(i for i in orgs if isinstance(i, str) and OBJECT_ID.fullmatch(i))
    return replace(verdict, hint=verdict.hint + (f" This key manages: {named}." if named else ""))


def normalise_config(config: Mapping[str, str]) -> dict[str, str]:
    return {k: v.strip().lower() if k == "region" else v for k, v in config.items()}


ORG_ID = setting(
    "org_id",
    "organization ID",
    "Only for multi-tenant administrators: the organization to act on (sent as x-org-id).",
    pattern=OBJECT_ID.pattern,
    example="60259a2ad81e1a474d4e7c83",
)
REGION = setting(
    "region",
    "region",
    "us (default, console.jumpcloud.com) or eu (hosted in the EU, console.eu.jumpcloud.com).",
    pattern=r"(?i)\s*(us|eu)\s*",
    example="eu",
)
API_KEY = credential(
    "api_key",
    "API key",
    "An administrator's API key (Admin Portal > account menu > My API Key).",
    pattern=r"[\x21-\x7e]{16,256}",
    example="jca_" + "0" * 34,
)

PROVIDER = guides.JUMPCLOUD.apply(
    ProviderSpec(
        id="jumpcloud",
        display_name=NAME,
        docs_url="https://jumpcloud.com/support/jumpcloud-apis",
        fields=(API_KEY, ORG_ID, REGION),
        auth=Header("x-api-key"),
        headers={"Accept": "application/json", "Content-Type": "application/json"},
        config_headers={"x-org-id": "org_id"},
        verify=partial(verify, check(guides.JUMPCLOUD_KEY_HINT)),
        base_url_template="https://{console}/api",
        derived={"console": lambda config: CONSOLES[config.get("region") or "us"]},
        allowed_hosts=r"console(\.eu)?\.jumpcloud\.com",
        normalise_config=normalise_config,
    )
)
