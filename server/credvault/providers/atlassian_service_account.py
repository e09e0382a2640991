"""Atlassian service accounts (and any scoped API token) through the gateway
`https://api.atlassian.com/ex/{product}/{cloud_id}`; scoped tokens are refused on the site URL itself.

Auth is basic (`email:token`, Atlassian's documented form) or, with `auth: bearer`, the token alone as a
Bearer token. A `site` may be given instead of `cloud_id`: verification looks the cloud id up at
`https://{site}/_edge/tenant_info` (no credentials sent) and stores it in the config. When both are
given, `cloud_id` is used. `expires_at` (the date the token was created to expire, 1 to 365 days out)
becomes the connection's `expires_at`: past it the connection is EXPIRED and hands out no headers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import httpx

from credvault.domain.errors import FieldViolation, InvalidArgumentError
from credvault.domain.model import Verdict, utcnow
from credvault.providers import check, guides
from credvault.providers.atlassian import CURRENT_USER, EMAIL, PRODUCTS
from credvault.providers.atlassian_site import (
    SITE_HOSTS,
    SITE_PATTERN,
    site_violation,
)
from credvault.providers.auth import Basic, Bearer, ByConfig
from credvault.providers.check import Rule
from credvault.providers.http import rejected, send, unexpected
from credvault.providers.spec import FieldLocation, FieldSpec, ProviderSpec, VerifyRequest

NAME = "Atlassian (service account)"
AUTH_MODES = ("basic", "bearer")
CLOUD_ID = r"[A-Za-z0-9][A-Za-z0-9-]{7,63}"
MAX_LIFETIME = timedelta(days=366)
"""Atlassian tokens last at most 365 days; one day of slack for time zones."""

SCOPES = {
    "jira": "read:jira-user (classic), or read:user:jira, read:application-role:jira, read:group:jira "
    "and read:avatar:jira (granular)",
    "confluence": "read:confluence-user (classic), or read:content-details:confluence (granular)",
}
PRODUCT_PATTERN = r"(?i)\s*(jira|confluence)\s*"
ADMIN_PAGE = "admin.atlassian.com > Directory > Service accounts"

TOKEN_HINT = (
    "Atlassian did not accept the token: it expired, was revoked or is mistyped, or the email is not "
    "the service account's (…@serviceaccount.atlassian.com). Create a new token in "
    f"{ADMIN_PAGE} > the account > Create credentials. A revocation takes up to 10 minutes to apply, "
    "so a token revoked moments ago may still pass a check and fail shortly after. If the token is "
    "new, check config.cloud_id too: an organization ID in its place can also be answered this way."
)
SCOPE_HINT = (
    "The token lacks the scopes this check needs, {scopes}. Scopes cannot be added to an existing token: "
    f"create a new token with them in {ADMIN_PAGE}."
)
ACCESS_HINT = (
    "The service account has no access to {product} on this site: in {admin} give it access to the app "
    "(a product role), then connect again."
)
CLOUD_ID_HINT = (
    "No Atlassian site has this cloud ID. An organization ID (the id in admin.atlassian.com/o/<id>) looks "
    "the same but is not a cloud ID: open https://<your-site>.atlassian.net/_edge/tenant_info for the "
    "cloudId, or give config.site instead and credvault looks it up."
)
SITE_HINT = (
    "There is no Atlassian Cloud site at config.site (its tenant_info lookup answered 404): copy the site "
    "from the address bar (the part before .atlassian.net), or give config.cloud_id."
)


def normalise_config(config: Mapping[str, str]) -> dict[str, str]:
    result = {k: v.strip() for k, v in config.items()}
    violations = []
    result["product"] = result.get("product", "jira").lower()
    if result["product"] not in PRODUCTS:
        violations.append(FieldViolation("config.product", "must be jira or confluence"))
    result["auth"] = result.get("auth", "basic").lower()
    if result["auth"] not in AUTH_MODES:
        violations.append(FieldViolation("config.auth", "must be basic or bearer"))
    if "cloud_id" in result:
        result["cloud_id"] = result["cloud_id"].lower()
    if "site" in result:
        site, violation = site_violation("config.site", result["site"])
        if violation:
            violations.append(violation)
        result["site"] = site or ""
    elif "cloud_id" not in result:
        violations.append(
            FieldViolation(
                "config.cloud_id",
                "required: the site's cloud ID, or give config.site and credvault looks it up",
            )
        )
    if "expires_at" in result:
        when, problem = parse_expiry(result["expires_at"])
        if problem:
            violations.append(FieldViolation("config.expires_at", problem))
        elif when:
            result["expires_at"] = when.isoformat()
    if violations:
        raise InvalidArgumentError(violations)
    return result


def parse_expiry(value: str) -> tuple[datetime | None, str]:
    """Reads `2026-12-31` (the start of that day, UTC: Atlassian shows the expiry as a date) or an
    ISO-8601 date and time (UTC unless it has an offset). Returns the time or a problem."""
    try:
        when = (
            datetime.combine(date.fromisoformat(value), time(), UTC)
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)
            else datetime.fromisoformat(value)
        )
    except ValueError:
        return None, "must be a date (2026-12-31) or an ISO-8601 date and time (2026-12-31T12:00:00Z)"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    if when > utcnow() + MAX_LIFETIME:
        return None, "is more than 365 days away; Atlassian tokens last 1 to 365 days"
    return when, ""


def expires_at(config: Mapping[str, str]) -> datetime | None:
    return datetime.fromisoformat(config["expires_at"]) if config.get("expires_at") else None


async def verify(
    request: VerifyRequest, *, token_hint: str = TOKEN_HINT, scope_hint: str = SCOPE_HINT
) -> Verdict:
    """Resolves the cloud id from the site when needed, then asks the gateway for the current user;
    the hints say what to make anew when the gateway refuses (a token here, OAuth credentials there)."""
    learnt: dict[str, str] = {}
    base_url = request.base_url
    if not request.config.get("cloud_id"):
        found = await resolve_cloud_id(request)
        if isinstance(found, Verdict):
            return found
        learnt["cloud_id"] = found
        base_url = request.render_base_url({**request.config, **learnt})
    product = request.config.get("product", "jira")
    response = await send(request, "GET", base_url + CURRENT_USER[product], provider_name=NAME)
    verdict = verdict_of(response, product, token_hint, scope_hint)
    return replace(verdict, config=learnt) if verdict.ok else verdict


async def resolve_cloud_id(request: VerifyRequest) -> str | Verdict:
    """The cloud id of `config.site`, from its public tenant_info (no credentials are sent there)."""
    response = await send(
        request,
        "GET",
        request.render_url("tenant_info", request.config),
        headers={"Accept": "application/json"},
        provider_name=NAME,
    )
    if response.status_code == 404:
        return rejected(response, "SITE_NOT_FOUND", SITE_HINT)
    if not response.is_success:
        return unexpected(response, NAME)
    try:
        body = response.json()
    except ValueError:
        body = None
    cloud_id = body.get("cloudId") if isinstance(body, dict) else None
    if not isinstance(cloud_id, str) or not re.fullmatch(CLOUD_ID, cloud_id):
        return rejected(
            response,
            "UNEXPECTED_RESPONSE",
            "The site's tenant_info gave no usable cloudId; give config.cloud_id instead.",
        )
    return cloud_id.lower()


def verdict_of(
    response: httpx.Response, product: str, token_hint: str = TOKEN_HINT, scope_hint: str = SCOPE_HINT
) -> Verdict:
    label = "Jira" if product == "jira" else "Confluence"
    rules = (
        Rule(
            401, "INSUFFICIENT_SCOPE", scope_hint.format(scopes=SCOPES[product]), body="scope does not match"
        ),
        Rule(401, "CREDENTIALS_REJECTED", token_hint),
        Rule(403, "NO_PRODUCT_ACCESS", ACCESS_HINT.format(product=label, admin=ADMIN_PAGE)),
        Rule(404, "CLOUD_ID_NOT_FOUND", CLOUD_ID_HINT),  # also "Site temporarily unavailable"
    )
    return check.verdict_of(response, rules, {}, NAME)


def _config(name: str, label: str, description: str, pattern: str, example: str) -> FieldSpec:
    return FieldSpec(
        name=name,
        label=label,
        description=description,
        location=FieldLocation.CONFIG,
        required=False,
        pattern=pattern,
        example=example,
        max_length=2048,
    )


PROVIDER = guides.SERVICE_ACCOUNT.apply(
    ProviderSpec(
        id="atlassian-service-account",
        display_name=NAME,
        docs_url="https://support.atlassian.com/user-management/docs/manage-api-tokens-for-service-accounts/",
        fields=(
            replace(
                EMAIL,
                label="service account email",
                description="The service account's email (…@serviceaccount.atlassian.com), shown in "
                f"{ADMIN_PAGE}. Used for basic auth.",
                example="reports-bot@serviceaccount.atlassian.com",
            ),
            FieldSpec(
                name="api_token",
                label="API token",
                description=f"A scoped API token of the service account ({ADMIN_PAGE} > Create credentials > "
                "API token). Tokens vary in length.",
                location=FieldLocation.CREDENTIALS,
                pattern=r"[\x21-\x7e]+",
                example="ATSTT3xFfGF0T2hlcl9leGFtcGxlX3Rva2Vu",
                max_length=4096,
            ),
            _config(
                "cloud_id",
                "cloud ID",
                "The site's cloud ID (cloudId at https://<site>.atlassian.net/_edge/tenant_info), not the "
                "organization ID. Give this or site.",
                CLOUD_ID,
                "a436116f-02ce-4520-8fbb-7301462a1674",
            ),
            _config(
                "site",
                "site",
                "Instead of cloud_id: the site (acme or acme.atlassian.net); its cloud ID is looked up and "
                "stored.",
                SITE_PATTERN,
                "acme.atlassian.net",
            ),
            _config("product", "product", "jira (default) or confluence.", PRODUCT_PATTERN, "jira"),
            _config(
                "auth",
                "auth mode",
                "basic (default: email and token) or bearer (the token alone as a Bearer token).",
                r"(?i)\s*(basic|bearer)\s*",
                "basic",
            ),
            _config(
                "expires_at",
                "token expiry",
                "When the token expires, as chosen when it was created (1 to 365 days): a date, read as the "
                "start of that day UTC, or an ISO-8601 time. Past it the connection is EXPIRED.",
                r"\s*\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?\s*",
                "2026-12-31",
            ),
        ),
        base_url_template="https://api.atlassian.com/ex/{product}/{cloud_id}",
        allowed_hosts=rf"api\.atlassian\.com|{SITE_HOSTS}",
        urls={"tenant_info": "https://{site}/_edge/tenant_info"},
        auth=ByConfig(
            "auth", {"basic": Basic("email", "api_token"), "bearer": Bearer("api_token")}, default="basic"
        ),
        headers={"Accept": "application/json"},
        verify=verify,
        normalise_config=normalise_config,
        expires_at=expires_at,
    )
)
