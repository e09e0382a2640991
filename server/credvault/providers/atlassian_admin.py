"""The Atlassian organization admin API (`https://api.atlassian.com/admin`) with an admin API key as a
Bearer token.

Verification lists the organizations the key sees (`GET /v1/orgs`, following the pages). With an
`org_id` it must be one of them; without one and exactly one organization in sight, that organization's
id is stored as `org_id` for the client's URLs. Keys "with scopes" may not be allowed to list
organizations: then, given an `org_id`, the key is checked with `GET /v1/orgs/{org_id}` (scope
`read:orgs:admin`) instead.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx

from credvault.domain.model import Verdict
from credvault.providers import guides
from credvault.providers.atlassian_site import body_text
from credvault.providers.auth import Bearer
from credvault.providers.check import Rule, verdict_of
from credvault.providers.http import rejected, send, unexpected, verified
from credvault.providers.spec import FieldLocation, FieldSpec, ProviderSpec, VerifyRequest

NAME = "Atlassian Admin"
MAX_PAGES = 20
MAX_NAMED = 20
"""Organizations named in a hint at most."""
ORG_SCOPE = "read:orgs:admin"
ORG_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{7,63}")
KEYS_PAGE = "admin.atlassian.com > Settings > API keys"

KEY_HINT = (
    "Atlassian did not accept the admin API key: it is mistyped, revoked or expired (keys last at most "
    f"a year). Create a new one in {KEYS_PAGE}. A personal API token from id.atlassian.com is not an "
    "admin API key."
)
SCOPE_HINT = (
    f"The key has scopes, and not {ORG_SCOPE}, which reading the organization needs: create a key with "
    f"that scope (or a key without scopes) in {KEYS_PAGE}."
)
ORG_REQUIRED_HINT = (
    "This key has scopes that do not allow listing organizations: set config.org_id to your organization "
    "ID (the id in admin.atlassian.com/o/<id>/overview) so the key can be checked against it."
)
FORBIDDEN_HINT = (
    "Atlassian refused the key for this organization (not allowed to manage it): use a key created by "
    "an admin of the organization."
)


async def verify(request: VerifyRequest) -> Verdict:
    org_id = request.config.get("org_id", "")
    orgs, response = await list_orgs(request)
    if orgs is not None:
        if not org_id:
            only = {"org_id": orgs[0]} if len(orgs) == 1 else {}
            return verified(response, only)
        if org_id in orgs:
            return verified(response)
        return rejected(response, "ORG_NOT_FOUND", _not_among(orgs))
    if response.status_code == 403 or (response.status_code == 401 and _scope_mismatch(response)):
        if not org_id:
            return rejected(response, "ORG_ID_REQUIRED", ORG_REQUIRED_HINT)
        response = await send(request, "GET", f"{request.base_url}/v1/orgs/{org_id}", provider_name=NAME)
        if response.is_success:
            return verified(response)
        if response.status_code == 404:
            return rejected(
                response,
                "ORG_NOT_FOUND",
                "The key does not see an organization with config.org_id (it may not list the ones it "
                "does see): check the id in admin.atlassian.com/o/<id>/overview.",
            )
    return _failure(response)


async def list_orgs(request: VerifyRequest) -> tuple[list[str] | None, httpx.Response]:
    """The ids of every organization the key sees, or None with the answer that refused the listing."""
    ids: list[str] = []
    params: dict[str, str] = {}
    for _ in range(MAX_PAGES):
        url = f"{request.base_url}/v1/orgs"
        response = await send(request, "GET", url, params=params, provider_name=NAME)
        if not response.is_success:
            return None, response
        try:
            page = response.json()
        except ValueError:
            return None, response
        ids += [i for i in (o.get("id") for o in _data(page)) if isinstance(i, str) and ORG_ID.fullmatch(i)]
        cursor = _next_cursor(page)
        if not cursor:
            break
        params = {"cursor": cursor}
    return ids, response


def _data(page: object) -> list[dict[str, object]]:
    data = page.get("data") if isinstance(page, dict) else None
    return [o for o in data if isinstance(o, dict)] if isinstance(data, list) else []


def _next_cursor(page: object) -> str:
    """The cursor of the next page, read from `links.next` (the link itself is not followed: only its
    cursor, against our own base URL)."""
    links = page.get("links") if isinstance(page, dict) else None
    next_link = links.get("next") if isinstance(links, dict) else None
    if not isinstance(next_link, str) or not next_link:
        return ""
    return parse_qs(urlsplit(next_link).query).get("cursor", [""])[0]


def _scope_mismatch(response: httpx.Response) -> bool:
    return "scope does not match" in body_text(response)


def _not_among(orgs: list[str]) -> str:
    seen = ", ".join(orgs[:MAX_NAMED]) if orgs else "none"
    if len(orgs) > MAX_NAMED:
        seen += f" and {len(orgs) - MAX_NAMED} more"
    return (
        f"config.org_id is not an organization this key manages; the key sees: {seen}. "
        "Use one of these ids, or leave org_id empty."
    )


FAILURES = (
    Rule(401, "INSUFFICIENT_SCOPE", SCOPE_HINT, body="scope does not match"),
    Rule(401, "CREDENTIALS_REJECTED", KEY_HINT),
    Rule(403, "INSUFFICIENT_PERMISSIONS", FORBIDDEN_HINT),
)


def _failure(response: httpx.Response) -> Verdict:
    if response.is_success:  # a listing that was not the JSON Atlassian documents
        return unexpected(response, NAME)
    return verdict_of(response, FAILURES, {}, NAME)


PROVIDER = guides.ATLASSIAN_ADMIN.apply(
    ProviderSpec(
        id="atlassian-admin",
        display_name=NAME,
        docs_url="https://support.atlassian.com/organization-administration/docs/manage-an-organization-with-the-admin-apis/",
        fields=(
            FieldSpec(
                name="api_key",
                label="admin API key",
                description=f"An organization admin API key, with or without scopes ({KEYS_PAGE} > Create "
                "API key). Keys vary in length.",
                location=FieldLocation.CREDENTIALS,
                pattern=r"[\x21-\x7e]+",
                example="ATCTT3xFfGN0T2hlcl9leGFtcGxlX2tleQ",
                max_length=4096,
            ),
            FieldSpec(
                name="org_id",
                label="organization ID",
                description="The organization to check the key against (the id in "
                "admin.atlassian.com/o/<id>/overview). Needed for keys with scopes; empty: stored "
                "automatically when the key sees exactly one organization.",
                location=FieldLocation.CONFIG,
                required=False,
                pattern=ORG_ID.pattern,
                example="9a1jj823-jac8-123d-jj01-63315k059cb2",
            ),
        ),
        base_url_template="https://api.atlassian.com/admin",
        allowed_hosts=r"api\.atlassian\.com",
        auth=Bearer("api_key"),
        headers={"Accept": "application/json"},
        verify=verify,
    )
)
