"""What guards the Connect page: response headers, the session cookie, CSRF tokens and the same-origin
rule for POSTs.

CSRF: every form carries a token signed (itsdangerous) with the browser's session cookie, so any
replica can check it without a shared key, and a page on another site, which can neither read the
cookie nor send it (SameSite=Strict), cannot forge one. On top, a POST whose `Sec-Fetch-Site` (or,
from browsers without it, `Origin`) names another origin is refused before anything else runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from aiohttp.typedefs import Middleware
from itsdangerous import BadSignature, Signer

from credvault.domain.model import utcnow

COOKIE = "credvault_connect"
CSRF_FIELD = "csrf"
_CSRF_SALT = "credvault-connect-form"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def csp(allowed_origins: tuple[str, ...]) -> str:
    ancestors = " ".join(allowed_origins) or "'none'"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}"
    )


def security_headers(allowed_origins: tuple[str, ...], https: bool) -> Middleware:
    """Middleware putting the page's security headers on every response, errors included; over HTTPS
    also HSTS, so a browser never tries the page over plain HTTP again."""
    headers = {
        "Content-Security-Policy": csp(allowed_origins),
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000"

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers.update(headers)
            raise
        response.headers.update(headers)
        return response

    return middleware


def same_origin(request: web.Request, public_origin: str) -> bool:
    """False when the browser says the request comes from another origin."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return origin is None
    return origin in (public_origin, f"{request.scheme}://{request.host}")


def csrf_token(cookie: str, session_id: str) -> str:
    return Signer(cookie, salt=_CSRF_SALT).sign(session_id).decode()


def csrf_valid(cookie: str, session_id: str, token: str) -> bool:
    try:
        return Signer(cookie, salt=_CSRF_SALT).unsign(token).decode() == session_id
    except (BadSignature, UnicodeDecodeError):
        return False


def set_session_cookie(
    response: web.StreamResponse, value: str, path: str, expires_at: datetime, secure: bool
) -> None:
    """The browser's proof that it opened the link: HttpOnly, SameSite=Strict, only for this session's
    pages, gone when the session expires, and Secure under TLS."""
    response.set_cookie(
        COOKIE,
        value,
        path=path,
        max_age=max(int((expires_at - utcnow()).total_seconds()), 1),
        httponly=True,
        samesite="Strict",
        secure=secure,
    )
