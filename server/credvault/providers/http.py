"""The seam between provider verify functions and httpx: transport failures become our exceptions,
answers the provider gives about the credentials stay answers.

Translated here, for every provider alike: timeouts and connection errors, 5xx (UNAVAILABLE), 429
(rate-limited, with Retry-After), redirects (never followed with credentials attached), and bodies
over `MAX_BODY_BYTES` (never read further).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime

import httpx

from credvault.domain.errors import ProviderUnavailableError, RateLimitedError
from credvault.domain.model import Verdict
from credvault.providers.spec import VerifyRequest
from credvault.retry_after import MAX_RETRY_AFTER, retry_after_seconds

MAX_BODY_BYTES = 1024 * 1024
"""Most bytes of a provider's answer read: a check needs a small JSON document, not a flood."""
_BODY_FRAMING = frozenset({"content-encoding", "content-length", "transfer-encoding"})


async def send(
    request: VerifyRequest,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    provider_name: str,
) -> httpx.Response:
    """Sends one request with the credentials (unless `headers` replaces them) and returns the
    provider's answer when it says something about the credentials (2xx, 3xx, 4xx but 429). Raises for
    everything else."""
    return await exchange(
        request.http,
        method,
        url,
        headers=request.headers if headers is None else headers,
        params={**request.query_params, **(params or {})},
        timeout=request.timeout,
        provider_name=provider_name,
    )


async def exchange(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    timeout: float,
    provider_name: str,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    data: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> httpx.Response:
    """`send` without a VerifyRequest (e.g. a token endpoint): `data` goes as a form body, `auth` as
    HTTP basic. Transport failures, 429 and 5xx raise as in `send`."""
    meta: dict[str, str] = {}
    try:
        request = http.build_request(
            method, url, headers=headers, params=params or None, data=data, timeout=timeout
        )
        response = await _bounded(http, request, auth, provider_name)
    except httpx.TimeoutException:
        raise ProviderUnavailableError(
            f"{provider_name} did not answer within {timeout:.1f}s; try again later",
            reason="PROVIDER_TIMEOUT",
            metadata=meta,
        ) from None
    except httpx.TransportError as exc:
        raise ProviderUnavailableError(
            f"{provider_name} could not be reached ({type(exc).__name__}); try again later",
            reason="PROVIDER_UNREACHABLE",
            metadata=meta,
        ) from None
    status = response.status_code
    meta["provider_http_status"] = str(status)
    if status == 429:
        retry_after = retry_after_seconds(response.headers.get("retry-after"))
        if retry_after is None:
            retry_after = reset_seconds(response.headers.get("x-ratelimit-reset"))
        raise RateLimitedError(
            f"{provider_name} is rate-limiting requests; try again"
            + (f" in {retry_after:.0f}s" if retry_after is not None else " later"),
            metadata=meta,
            retry_after=retry_after,
        )
    if status >= 500:
        retry_after = retry_after_seconds(response.headers.get("retry-after"))
        raise ProviderUnavailableError(
            f"{provider_name} answered HTTP {status} (a fault on its side); try again later",
            reason="PROVIDER_ERROR",
            metadata=meta,
            retry_after=retry_after,
        )
    return response


async def _bounded(
    http: httpx.AsyncClient, request: httpx.Request, auth: tuple[str, str] | None, provider_name: str
) -> httpx.Response:
    """Sends the request and reads at most MAX_BODY_BYTES of the (decoded) answer."""
    streamed = await http.send(request, auth=auth, follow_redirects=False, stream=True)
    body = bytearray()
    try:
        async for chunk in streamed.aiter_bytes():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise ProviderUnavailableError(
                    f"{provider_name} answered with more than {MAX_BODY_BYTES // 1024} KiB; a check's answer "
                    "is small, so this is not the provider's API (check the base URL)",
                    reason="PROVIDER_RESPONSE_TOO_LARGE",
                    metadata={"provider_http_status": str(streamed.status_code)},
                )
    finally:
        await streamed.aclose()
    headers = [(k, v) for k, v in streamed.headers.multi_items() if k.lower() not in _BODY_FRAMING]
    return httpx.Response(streamed.status_code, headers=headers, content=bytes(body), request=request)


def reset_seconds(value: str | None) -> float | None:
    """Parses `X-RateLimit-Reset` as Atlassian sends it (an ISO-8601 UTC time such as
    `2026-11-23T12:40Z`) into seconds from now; None when absent or unreadable."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, when.timestamp() - time.time()), MAX_RETRY_AFTER)


def verified(response: httpx.Response, config: Mapping[str, str] | None = None) -> Verdict:
    """The provider accepted the credentials; `config` holds what the check learnt, to store."""
    return Verdict(ok=True, reason="VERIFIED", http_status=response.status_code, config=config or {})


def rejected(response: httpx.Response, reason: str, hint: str) -> Verdict:
    return Verdict(ok=False, reason=reason, http_status=response.status_code, hint=hint)


def unexpected(response: httpx.Response, provider_name: str) -> Verdict:
    """The verdict for an answer the provider's own mapping does not cover."""
    if response.is_redirect:
        return rejected(
            response,
            "UNEXPECTED_REDIRECT",
            f"{provider_name} answered with a redirect, which credvault does not follow with "
            "credentials attached: check the site or base URL.",
        )
    return rejected(
        response,
        "UNEXPECTED_RESPONSE",
        f"{provider_name} answered HTTP {response.status_code} to the test call; check the "
        "credentials and settings against the provider's guide.",
    )


def json_message(response: httpx.Response) -> str:
    """The `message` of a JSON error body, or '' when there is none (bodies are never echoed whole)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return message if isinstance(message, str) else ""
