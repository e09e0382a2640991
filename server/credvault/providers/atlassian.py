"""Jira and Confluence Cloud with basic auth (account email + API token) on the user's own site.

The base URL is the site (`https://acme.atlassian.net`): Jira's REST API lives under `/rest/api/3`,
Confluence's under `/wiki/rest/api` and `/wiki/api/v2`, so one connection serves both. Verification asks
for the current user: Jira's `GET /rest/api/3/myself`, or Confluence's `GET /wiki/rest/api/user/current`
when `product` is `confluence`. With no `product`, Jira is tried first and Confluence when the site has no
Jira (404); the product that answered is stored in the config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import httpx

from credvault.domain.errors import FieldViolation, InvalidArgumentError
from credvault.domain.model import Verdict
from credvault.providers import check, guides
from credvault.providers.atlassian_site import (
    SITE_HOSTS,
    SITE_PATTERN,
    site_unavailable,
    site_violation,
)
from credvault.providers.auth import Basic
from credvault.providers.check import Rule
from credvault.providers.http import rejected, send
from credvault.providers.spec import FieldLocation, FieldSpec, ProviderSpec, VerifyRequest

NAME = "Atlassian (Jira/Confluence)"
PRODUCTS = ("jira", "confluence")
CURRENT_USER = {"jira": "/rest/api/3/myself", "confluence": "/wiki/rest/api/user/current"}
TOKENS_URL = "https://id.atlassian.com/manage-profile/security/api-tokens"

TOKEN_HINT = (
    "Atlassian did not accept the email and API token. Check that the email is the one you log in to "
    f"Atlassian with and that the token is current: tokens expire (after 1 to 365 days) and can be "
    f"revoked; make a new one at {TOKENS_URL} (Create API token, not 'with scopes': scoped tokens only "
    "work through api.atlassian.com, use the atlassian-service-account provider for them)."
)
PASSWORD_HINT = (
    "Atlassian refused basic auth with an account password: paste an API token instead of the "
    f"password (create one at {TOKENS_URL})."
)
CAPTCHA_HINT = (
    "Atlassian wants a CAPTCHA for this account after several failed logins, and refuses API calls "
    "until it is answered: log out of the site in a browser, log in again and answer the CAPTCHA, "
    "then connect again."
)
SITE_HINT = (
    "There is no Atlassian Cloud site at config.site: copy the site from the address bar when you open "
    "Jira or Confluence (the part before .atlassian.net)."
)
PRODUCT_HINTS = {
    "jira": "The site answered 404 for Jira: it may have Confluence only; set config.product to confluence.",
    "confluence": "The site answered 404 for Confluence: it may have Jira only; set config.product to jira.",
}
NO_PRODUCT_HINT = (
    "Neither Jira nor Confluence answered on config.site: check that it is the site you open Jira or "
    "Confluence on."
)
ACCESS_HINT = (
    "The account has no access to {product} on this site: ask a site admin to give it product access "
    "(admin.atlassian.com > Directory > Users > the user > Apps / product access), or connect another "
    "account."
)


def normalise_config(config: Mapping[str, str]) -> dict[str, str]:
    result = dict(config)
    violations = []
    site, violation = site_violation("config.site", config.get("site", ""))
    if violation:
        violations.append(violation)
    else:
        result["site"] = site or ""
    if "product" in config:
        product = config["product"].strip().lower()
        if product not in PRODUCTS:
            violations.append(FieldViolation("config.product", "must be jira or confluence"))
        result["product"] = product
    if violations:
        raise InvalidArgumentError(violations)
    return result


async def verify(request: VerifyRequest) -> Verdict:
    product = request.config.get("product")
    response = await _current_user(request, product or "jira")
    if product is None and response.status_code == 404 and not site_unavailable(response):
        product = "confluence"
        response = await _current_user(request, product)
        if response.status_code == 404 and not site_unavailable(response):
            return rejected(response, "PRODUCT_NOT_FOUND", NO_PRODUCT_HINT)
    product = product or "jira"
    verdict = verdict_of(response, product)
    return replace(verdict, config={"product": product}) if verdict.ok else verdict


async def _current_user(request: VerifyRequest, product: str) -> httpx.Response:
    return await send(request, "GET", request.base_url + CURRENT_USER[product], provider_name=NAME)


def rules(product: str) -> tuple[Rule, ...]:
    """How a current-user answer from a site reads, for Jira or Confluence."""
    label = "Jira" if product == "jira" else "Confluence"
    return (
        Rule(401, "PASSWORD_NOT_TOKEN", PASSWORD_HINT, body="passwords is deprecated"),
        Rule(401, "CREDENTIALS_REJECTED", TOKEN_HINT),
        # Jira's answer once an account must solve a CAPTCHA: X-Authentication-Denied-Reason:
        # CAPTCHA_CHALLENGE; login-url=... and X-Seraph-LoginReason: AUTHENTICATION_DENIED.
        Rule(403, "CAPTCHA_REQUIRED", CAPTCHA_HINT, header=("x-authentication-denied-reason", "captcha")),
        Rule(403, "CAPTCHA_REQUIRED", CAPTCHA_HINT, header=("x-seraph-loginreason", "authentication_denied")),
        Rule(403, "NO_PRODUCT_ACCESS", ACCESS_HINT.format(product=label)),
        Rule(404, "SITE_NOT_FOUND", SITE_HINT, body="site temporarily unavailable"),
        Rule(404, "PRODUCT_NOT_FOUND", PRODUCT_HINTS[product]),
    )


def verdict_of(response: httpx.Response, product: str) -> Verdict:
    if response.is_success and _anonymous(response):  # Confluence ignored the credentials
        return rejected(response, "CREDENTIALS_REJECTED", TOKEN_HINT)
    return check.verdict_of(response, rules(product), {}, NAME)


def _anonymous(response: httpx.Response) -> bool:
    """Confluence answers an anonymous user (`"type": "anonymous"`) when it ignored the credentials."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("type") == "anonymous"


EMAIL = FieldSpec(
    name="email",
    label="account email",
    description="The email address of the Atlassian account the API token belongs to.",
    location=FieldLocation.CREDENTIALS,
    pattern=r"[^@\s]+@[^@\s]+",
    example="mia@example.com",
    max_length=320,
)

PROVIDER = guides.ATLASSIAN.apply(
    ProviderSpec(
        id="atlassian",
        display_name=NAME,
        docs_url="https://support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account/",
        fields=(
            EMAIL,
            FieldSpec(
                name="api_token",
                label="API token",
                description=f"An API token of that account, from {TOKENS_URL} (Create API token). "
                "Tokens vary in length.",
                location=FieldLocation.CREDENTIALS,
                pattern=r"[\x21-\x7e]+",
                example="ATATT3xFfGF0T2hlcl9leGFtcGxlX3Rva2Vu",
                max_length=4096,
            ),
            FieldSpec(
                name="site",
                label="site",
                description="Your Atlassian Cloud site: acme, acme.atlassian.net or any URL on it "
                "(stored as acme.atlassian.net).",
                location=FieldLocation.CONFIG,
                pattern=SITE_PATTERN,
                example="acme.atlassian.net",
                max_length=2048,
            ),
            FieldSpec(
                name="product",
                label="product",
                description="jira or confluence: which product's current-user call checks the token. "
                "Empty: Jira, then Confluence if the site has no Jira.",
                location=FieldLocation.CONFIG,
                required=False,
                pattern=r"(?i)\s*(jira|confluence)\s*",
                example="jira",
            ),
        ),
        base_url_template="https://{site}",
        allowed_hosts=SITE_HOSTS,
        auth=Basic("email", "api_token"),
        headers={"Accept": "application/json"},
        verify=verify,
        normalise_config=normalise_config,
    )
)
