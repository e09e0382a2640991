"""JumpCloud: an administrator's API key sent as `x-api-key`; `x-org-id` selects the organization for
multi-tenant (MSP) administrators. Both the v1 (`/api/...`) and v2 (`/api/v2/...`) endpoints live
under the one base URL `https://console.jumpcloud.com/api`: a client calls `{base_url}/systemusers`
(v1) and `{base_url}/v2/usergroups` (v2) with the same headers. Organizations in JumpCloud's EU region
set `region: eu`, and the base URL becomes `https://console.eu.jumpcloud.com/api`."""

from __future__ import annotations

import re
from collections.abc import Mapping

from credvault.domain.model import Credentials, Verdict
from credvault.providers import guides
from credvault.providers.http import json_message, rejected, send, unexpected
from credvault.providers.spec import FieldLocation, FieldSpec, ProviderSpec, VerifyRequest

NAME = "JumpCloud"
OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")
MAX_ORGS_NAMED = 100
CONSOLES = {"us": "console.jumpcloud.com", "eu": "console.eu.jumpcloud.com"}

KEY_HINT = (
    "JumpCloud did not accept the API key: it may be mistyped, or it was reset (a reset invalidates the "
    "old key at once). In the JumpCloud Admin Portal open your account menu (top right) > My API Key, "
    "copy the current key and connect again."
)
ORG_REQUIRED_HINT = (
    "This is a multi-tenant administrator's key: set config.org_id to the id of the organization to "
    "connect (Admin Portal > Settings > Organization Profile, or GET /api/organizations with this key)."
)
ORG_NOT_FOUND_HINT = (
    "JumpCloud knows no organization with this org_id that this key may manage: check config.org_id "
    "(Admin Portal > Settings > Organization Profile), or leave it empty for a single-organization key."
)
FORBIDDEN_HINT = (
    "JumpCloud refused the request: the administrator behind the key may lack the role to read users, "
    "or requests from credvault's address are blocked. Use a key of an administrator with at least "
    "read access, or ask JumpCloud support to lift the block."
)


def build_headers(credentials: Credentials, config: Mapping[str, str]) -> dict[str, str]:
    headers = {
        "x-api-key": credentials["api_key"],
        "Accept": "application/json",
        "Content-Type": "application/json",
    }
    if config.get("org_id"):
        headers["x-org-id"] = config["org_id"]
    return headers


async def verify(request: VerifyRequest) -> Verdict:
    """Reads one user id: proves the key works and, with x-org-id, that the organization is managed by it.
    (`/organizations` would answer even for a multi-tenant key that still needs an org id.)"""
    response = await send(
        request,
        "GET",
        f"{request.base_url}/systemusers",
        params={"limit": "1", "fields": "_id"},
        provider_name=NAME,
    )
    status = response.status_code
    if response.is_success:
        return Verdict(ok=True, reason="VERIFIED", http_status=status)
    message = json_message(response).lower()
    if status == 401 and "organization" in message:
        return rejected(response, "ORG_ID_REQUIRED", ORG_REQUIRED_HINT)
    if status == 401:
        return rejected(response, "CREDENTIALS_REJECTED", KEY_HINT)
    if status in (400, 404) and request.config.get("org_id"):
        reason = "ORG_ID_MALFORMED" if status == 400 else "ORG_NOT_FOUND"
        return rejected(response, reason, ORG_NOT_FOUND_HINT + await managed_orgs(request))
    if status == 403:
        reason = "IP_BLOCKED" if "blocked" in message else "INSUFFICIENT_PERMISSIONS"
        return rejected(response, reason, FORBIDDEN_HINT)
    return unexpected(response, NAME)


def normalise_config(config: Mapping[str, str]) -> dict[str, str]:
    result = dict(config)
    if "region" in result:
        result["region"] = result["region"].strip().lower()
    return result


def console_host(config: Mapping[str, str]) -> str:
    return CONSOLES[config.get("region") or "us"]


async def managed_orgs(request: VerifyRequest) -> str:
    """Names the organizations the key manages (`GET /organizations`, which needs no x-org-id), or ''
    when JumpCloud does not list them."""
    headers = {k: v for k, v in request.headers.items() if k.lower() != "x-org-id"}
    response = await send(
        request,
        "GET",
        f"{request.base_url}/organizations",
        headers=headers,
        params={"limit": str(MAX_ORGS_NAMED), "fields": "_id displayName"},
        provider_name=NAME,
    )
    try:
        results = response.json().get("results") if response.is_success else None
    except (ValueError, AttributeError):
        results = None
    if not isinstance(results, list):
        return ""
    ids = [o.get("_id") or o.get("id") for o in results if isinstance(o, dict)]
    named = [i for i in ids if isinstance(i, str) and OBJECT_ID.fullmatch(i)]
    return f" This key manages: {', '.join(named)}." if named else ""


PROVIDER = guides.JUMPCLOUD.apply(
    ProviderSpec(
        id="jumpcloud",
        display_name=NAME,
        auth_mode="api_key_header",
        docs_url="https://jumpcloud.com/support/jumpcloud-apis",
        fields=(
            FieldSpec(
                name="api_key",
                label="API key",
                description="An administrator's API key (Admin Portal > account menu > My API Key).",
                location=FieldLocation.CREDENTIALS,
                pattern=r"[\x21-\x7e]{16,256}",
                example="jca_0000000000000000000000000000000000",
            ),
            FieldSpec(
                name="org_id",
                label="organization ID",
                description="Only for multi-tenant administrators: the organization to act on "
                "(sent as x-org-id).",
                location=FieldLocation.CONFIG,
                required=False,
                pattern=OBJECT_ID.pattern,
                example="60259a2ad81e1a474d4e7c83",
            ),
            FieldSpec(
                name="region",
                label="region",
                description="us (default, console.jumpcloud.com) or eu (organizations hosted in the EU, "
                "console.eu.jumpcloud.com).",
                location=FieldLocation.CONFIG,
                required=False,
                pattern=r"(?i)\s*(us|eu)\s*",
                example="eu",
            ),
        ),
        base_url_template="https://{console}/api",
        derived={"console": console_host},
        allowed_hosts=r"console(\.eu)?\.jumpcloud\.com",
        normalise_config=normalise_config,
        build_headers=build_headers,
        verify=verify,
    )
)
