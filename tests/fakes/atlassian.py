"""Atlassian Cloud as shared/providers/atlassian.md and atlassian-service-account.md record it: sites
(`/{site}/rest/api/3/myself`, `/{site}/wiki/rest/api/user/current`, `/{site}/_edge/tenant_info`) and the
api.atlassian.com gateway (`/gateway/ex/{product}/{cloud_id}/...`), on one server.

credvault reaches it through URL overrides: `http://127.0.0.1:<port>/{site}` for `atlassian`,
`.../gateway/ex/{product}/{cloud_id}` for `atlassian-service-account` and `.../{site}/_edge/tenant_info`
for its tenant_info lookup.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field

from fakes.base import FakeAPI, Request, Response

SITE_GONE = {"errorMessage": "Site temporarily unavailable", "errorCode": "OTHER"}
NOT_AUTHENTICATED = "Client must be authenticated to access this resource."
PASSWORD_DEPRECATED = (
    "Basic authentication with passwords is deprecated.  For more information, see: "
    "https://confluence.atlassian.com/cloud/deprecation-of-basic-authentication-with-passwords-for-jira-"
    "and-confluence-apis-972355348.html"
)
PAGE_UNAVAILABLE = "<html><head><title>Atlassian Cloud Notifications - Page Unavailable</title></head></html>"
SCOPES_FOR = {
    "jira": [
        {"read:jira-user"},
        {"read:user:jira", "read:application-role:jira", "read:group:jira", "read:avatar:jira"},
    ],
    "confluence": [{"read:confluence-user"}, {"read:content-details:confluence"}],
}
CURRENT_USER = {"jira": "/rest/api/3/myself", "confluence": "/wiki/rest/api/user/current"}
TRACE_HEADERS = {
    "X-AREQUESTID": "a1b2c3",
    "ATL-TraceId": "0123456789abcdef",
    "Strict-Transport-Security": "max-age=63072000; preload",
    "Cache-Control": "no-cache, no-store, no-transform",
}


@dataclass
class Token:
    email: str
    scopes: set[str] | None = None
    """None: a classic token without scopes (site URLs only); a set: a scoped token (gateway only)."""


@dataclass
class Site:
    host: str
    cloud_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    products: set[str] = field(default_factory=lambda: {"jira", "confluence"})
    members: dict[str, set[str]] = field(default_factory=dict)
    """email -> the products the account may use on this site."""


class FakeAtlassianCloud(FakeAPI):
    default_headers = TRACE_HEADERS

    def __init__(self) -> None:
        super().__init__()
        self.sites: dict[str, Site] = {}
        self.tokens: dict[str, Token] = {}
        self.passwords: dict[str, str] = {}
        self.unknown_cloud_id = Response(404, SITE_GONE)
        """The gateway's answer for a cloud id no site has (404 observed; 401 also reported)."""
        self.captcha: set[str] = set()
        """Emails that must answer a CAPTCHA before the API lets them in again."""

    # -- set-up helpers for tests ------------------------------------------------------------------

    def add_site(self, host: str, products: set[str] | None = None) -> Site:
        site = Site(host, products=products if products is not None else {"jira", "confluence"})
        self.sites[host] = site
        return site

    def add_account(self, site: Site, email: str, products: set[str] | None = None) -> None:
        site.members[email] = products if products is not None else set(site.products)

    def add_token(self, email: str, scopes: set[str] | None = None) -> str:
        token = f"ATATT3x{uuid.uuid4().hex}{uuid.uuid4().hex}"
        self.tokens[token] = Token(email, scopes)
        return token

    def add_service_account(self, email: str) -> tuple[Site, str]:
        """A new site with `email` as its member and a Jira-read scoped token for it: what an
        `atlassian-service-account` connection needs. Returns the site and the token."""
        site = self.add_site(f"s{uuid.uuid4().hex[:12]}.atlassian.net")
        self.add_account(site, email)
        return site, self.add_token(email, scopes={"read:jira-user", "read:jira-work"})

    def add_token_value(self, email: str, scopes: set[str] | None, token: str) -> None:
        """Accepts `token` (e.g. one a token endpoint minted) for `email`, with `scopes`."""
        self.tokens[token] = Token(email, scopes)

    @property
    def site_template(self) -> str:
        return f"{self.url}/{{site}}"

    @property
    def gateway_template(self) -> str:
        return f"{self.url}/gateway/ex/{{product}}/{{cloud_id}}"

    @property
    def tenant_info_template(self) -> str:
        return f"{self.url}/{{site}}/_edge/tenant_info"

    def requests_for(self, site_or_cloud_id: str) -> list[Request]:
        return [r for r in self.requests if f"/{site_or_cloud_id}" in r.path]

    # -- the API ----------------------------------------------------------------------------------

    def override_key(self, request: Request) -> str:
        _, token = _credentials(request)
        return token or request.path.split("/")[1]

    def handle(self, request: Request) -> Response:
        segments = request.path.split("/")
        if len(segments) > 4 and segments[1] == "gateway" and segments[2] == "ex":
            return self._gateway(request, segments[3], segments[4], "/" + "/".join(segments[5:]))
        site = self.sites.get(segments[1])
        rest = "/" + "/".join(segments[2:])
        if site is None:
            return Response(404, SITE_GONE)
        if rest == "/_edge/tenant_info":
            return Response(200, {"cloudId": site.cloud_id})
        product = next((p for p, path in CURRENT_USER.items() if path == rest), None)
        if product is None or product not in site.products:
            return Response(404, PAGE_UNAVAILABLE, headers={"Content-Type": "text/html;charset=UTF-8"})
        return self._site_user(request, site, product)

    def _site_user(self, request: Request, site: Site, product: str) -> Response:
        authorization = request.headers.get("authorization", "")
        if authorization.startswith("Bearer "):
            return Response(401, {"error": "Failed to parse Connect Session Auth Token"})
        email, secret = _credentials(request)
        if not email:  # no or malformed Authorization: the caller is anonymous
            if product == "confluence":
                return Response(200, {"type": "anonymous", "displayName": "Anonymous"})
            return Response(
                401, NOT_AUTHENTICATED, headers={"WWW-Authenticate": 'Basic realm="protected-area"'}
            )
        if self.passwords.get(email) == secret:
            return Response(401, PASSWORD_DEPRECATED)
        if email in self.captcha:
            return Response(
                403,
                NOT_AUTHENTICATED,
                headers={
                    "X-Seraph-LoginReason": "AUTHENTICATION_DENIED",
                    "X-Authentication-Denied-Reason": f"CAPTCHA_CHALLENGE; login-url=https://{site.host}/login.jsp",
                },
            )
        token = self.tokens.get(secret)
        if token is None or token.email != email or token.scopes is not None:
            return Response(
                401,
                NOT_AUTHENTICATED,
                headers={"X-Seraph-LoginReason": "AUTHENTICATED_FAILED", "WWW-Authenticate": "OAuth realm"},
            )
        return self._user_or_no_access(site, email, product)

    def _gateway(self, request: Request, product: str, cloud_id: str, rest: str) -> Response:
        site = next((s for s in self.sites.values() if s.cloud_id == cloud_id), None)
        if site is None or product not in site.products:
            return self.unknown_cloud_id
        authorization = request.headers.get("authorization", "")
        email, secret = _credentials(request)
        token = self.tokens.get(secret)
        if (
            token is None
            or token.scopes is None
            or (authorization.startswith("Basic ") and token.email != email)
        ):
            return Response(401, {"code": 401, "message": "Unauthorized"})
        if rest != CURRENT_USER[product]:
            return Response(404, {"errorMessages": ["Not found"], "errors": {}})
        if not any(needed <= token.scopes for needed in SCOPES_FOR[product]):
            return Response(401, {"code": 401, "message": "Unauthorized; scope does not match"})
        return self._user_or_no_access(site, token.email, product)

    def _user_or_no_access(self, site: Site, email: str, product: str) -> Response:
        if product not in site.members.get(email, set()):
            if product == "confluence":
                return Response(
                    403, {"message": "Current user not permitted to use Confluence", "statusCode": 403}
                )
            return Response(
                403, {"errorMessages": ["You do not have access to Jira on this site."], "errors": {}}
            )
        account_id = "5b10a2844c20165700ede21g"
        if product == "confluence":
            return Response(
                200,
                {
                    "type": "known",
                    "accountId": account_id,
                    "accountType": "atlassian",
                    "email": email,
                    "publicName": email.split("@")[0],
                    "displayName": "Mia Krystof",
                    "isExternalCollaborator": False,
                    "_links": {"base": f"https://{site.host}/wiki", "context": "/wiki"},
                },
            )
        return Response(
            200,
            {
                "self": f"https://{site.host}/rest/api/3/user?accountId={account_id}",
                "accountId": account_id,
                "accountType": "atlassian",
                "emailAddress": email,
                "displayName": "Mia Krystof",
                "active": True,
                "timeZone": "Australia/Sydney",
                "locale": "en_US",
                "groups": {"size": 3, "items": []},
                "applicationRoles": {"size": 1, "items": []},
                "expand": "groups,applicationRoles",
            },
            headers={"X-AAccountId": account_id},
        )


def _credentials(request: Request) -> tuple[str, str]:
    """(email, token) from Basic auth, ('', token) from Bearer, ('', '') when there is neither."""
    authorization = request.headers.get("authorization", "")
    if authorization.startswith("Bearer "):
        return "", authorization.removeprefix("Bearer ")
    if authorization.startswith("Basic "):
        try:
            email, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        except ValueError:
            return "", ""
        return email, secret
    return "", ""
