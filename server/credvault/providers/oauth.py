"""OAuth 2.0 client credentials (RFC 6749 §4.4): minting a token, and reading the token endpoint's
answer into a token or a verdict.

Plain httpx through `http.exchange` rather than Authlib's or httpx-oauth's clients: those own an
`httpx.AsyncClient` and one token per client object, while credvault sends every provider call through
one shared client (no redirects, its deadlines, its error translation) and mints for many credentials.
The request itself is a form POST with the client authenticated in the body or by HTTP basic.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import httpx

from credvault.domain.model import Credentials, Verdict
from credvault.providers.auth import ClientCredentials
from credvault.providers.http import exchange, rejected, unexpected

REJECTING_ERRORS = ("invalid_client", "unauthorized_client", "invalid_grant")
"""What a token endpoint answers (RFC 6749 §5.2) when the client id or secret is wrong, revoked or
expired, or the client may not use this grant."""


@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)
    expires_at: datetime
    lifetime: float
    """Seconds the token was issued for."""


async def mint(
    http: httpx.AsyncClient,
    scheme: ClientCredentials,
    url: str,
    credentials: Credentials,
    timeout: float,
    provider_name: str,
) -> Token | Verdict:
    """Asks the token endpoint for a token. Tries each of the scheme's client authentications while the
    endpoint answers invalid_client (where the vendor has not confirmed which one it takes)."""
    client_id, secret = credentials[scheme.client_id], credentials[scheme.client_secret]
    form = {"grant_type": "client_credentials", **({"scope": scheme.scope} if scheme.scope else {})}
    end = time.monotonic() + timeout
    last = len(scheme.client_auth) - 1
    for attempt, method in enumerate(scheme.client_auth):
        body = {**form, "client_id": client_id, "client_secret": secret} if method == "body" else form
        response = await exchange(
            http,
            "POST",
            url,
            timeout=max(end - time.monotonic(), 0.01),
            provider_name=provider_name,
            headers={"Accept": "application/json"},
            data=body,
            auth=(client_id, secret) if method == "basic" else None,
        )
        if attempt == last or error_code(response) != "invalid_client":
            return token_of(response, scheme, provider_name)
    raise ValueError("client_auth is empty")  # refused when the plugin is loaded


def token_of(response: httpx.Response, scheme: ClientCredentials, provider_name: str) -> Token | Verdict:
    """The token in a 2xx answer, or the verdict on the credentials for anything else."""
    status = response.status_code
    if response.is_success:
        body = _fields(response)
        value, kind = body.get("access_token"), body.get("token_type", "bearer")
        if not isinstance(value, str) or not value or str(kind).lower() != "bearer":
            return rejected(
                response,
                "UNEXPECTED_RESPONSE",
                f"{provider_name}'s token endpoint answered without a usable bearer token; check the "
                "token URL (CREDVAULT_PROVIDER_URLS) against the provider's guide.",
            )
        lifetime = _seconds(body.get("expires_in")) or scheme.lifetime
        return Token(value, datetime.fromtimestamp(time.time() + lifetime, UTC), lifetime)
    code = error_code(response)
    if code == "invalid_scope":
        return rejected(response, "INSUFFICIENT_SCOPE", scheme.scope_hint)
    if code in REJECTING_ERRORS or status == 401 or (status == 403 and not code):
        return rejected(response, "CREDENTIALS_REJECTED", scheme.rejected_hint)
    return unexpected(response, provider_name)


def error_code(response: httpx.Response) -> str:
    """The OAuth `error` code of a 4xx answer, lower-cased ('' when there is none)."""
    if response.is_success:
        return ""
    code = _fields(response).get("error")
    return code.lower() if isinstance(code, str) else ""


def _fields(response: httpx.Response) -> Mapping[str, object]:
    """The answer's fields: JSON as the RFC says, or a form-encoded body, which some servers send."""
    try:
        body = response.json()
    except ValueError:
        return dict(parse_qsl(response.content[:4096].decode("utf-8", "replace")))
    return body if isinstance(body, dict) else {}


def _seconds(value: object) -> float | None:
    """expires_in as a positive number of seconds (some servers send it as a string)."""
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value) if isinstance(value, int | float | str) else 0.0
    except ValueError:
        return None
    return seconds if 0 < seconds < 10 * 365 * 86400 else None
