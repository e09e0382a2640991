"""The Connect page's routes. Each handler turns an HTTP request into one ConnectService call and its
result (or error) into a server-rendered page; it never touches Vault or a provider itself.

    GET  /connect/{id}?token=…          landing page (changes nothing)
    POST /connect/{id}?token=…          spends the link's token for a cookie, redirects without it
    GET  /connect/{id}/providers        choose a provider (when the link allows several)
    GET  /connect/{id}/providers/{p}    the form, with the provider's steps beside it
    POST /connect/{id}/providers/{p}    check and store; the form again with errors, or on to done
    GET  /connect/{id}/done             success; back to return_url, or postMessage when embedded
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import jinja2
from aiohttp import web
from yarl import URL

from credvault.domain.connect import ConnectPage, ConnectService, session_path
from credvault.domain.connect_session import ConnectSessionRecord, SessionState
from credvault.domain.errors import CredvaultError, NotFoundError, PermissionDeniedError
from credvault.domain.model import Deadline
from credvault.providers.spec import FieldLocation, ProviderSpec
from credvault.web.records import access_log, audit
from credvault.web.security import (
    COOKIE,
    CSRF_FIELD,
    Handler,
    csrf_token,
    csrf_valid,
    same_origin,
    security_headers,
    set_session_cookie,
)
from credvault.web.views import LINK_PROBLEMS, Problems, error_id, field_id, problems_of

READ_TIMEOUT = 10.0
"""Seconds a page may wait for Vault."""
MAX_FORM_BYTES = 64 * 1024
STATIC = {"connect.css": "text/css", "connect.js": "text/javascript"}


class ConnectPageApp:
    def __init__(self, connect: ConnectService, page: ConnectPage, secure_cookies: bool) -> None:
        self._connect = connect
        self._page = page
        self._secure = secure_cookies
        self._root = URL(page.base_url).path.rstrip("/")
        self._origin = str(URL(page.base_url).origin())
        self._templates = jinja2.Environment(
            loader=jinja2.PackageLoader("credvault.web", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self._templates.filters["capfirst"] = lambda text: text[:1].upper() + text[1:]
        self._static = {name: files("credvault.web").joinpath("static", name).read_bytes() for name in STATIC}

    def application(self) -> web.Application:
        app = web.Application(
            middlewares=[access_log, security_headers(self._page.allowed_origins, self._secure), _stops],
            client_max_size=MAX_FORM_BYTES,
        )
        app.add_routes(
            [
                web.get("/connect/{sid}", self.landing),
                web.post("/connect/{sid}", self.exchange),
                web.get("/connect/{sid}/providers", self.choose),
                web.get("/connect/{sid}/providers/{provider}", self.form),
                web.post("/connect/{sid}/providers/{provider}", self.submit),
                web.get("/connect/{sid}/done", self.done),
                web.get("/static/{name}", self.static),
            ]
        )
        return app

    # -- handlers ------------------------------------------------------------------------------------

    async def landing(self, request: web.Request) -> web.StreamResponse:
        sid = request.match_info["sid"]
        resumed = await self._resumed(request, completed=True)
        if resumed is not None:
            raise web.HTTPSeeOther(self._next(resumed))
        try:
            record = await self._connect.landing(sid, request.query.get("token", ""), _deadline())
        except CredvaultError as error:
            return self._problem(error)
        providers = self._connect.providers(record)
        return self._render(
            "landing.html",
            title=_title(providers),
            record=record,
            providers=providers,
            clean_url=self._path(sid),
        )

    async def exchange(self, request: web.Request) -> web.StreamResponse:
        sid = request.match_info["sid"]
        self._require_same_origin(request, "Open")
        resumed = await self._resumed(request, completed=True)
        if resumed is not None:
            raise web.HTTPSeeOther(self._next(resumed))
        form = await request.post()
        token = form.get("token") or request.query.get("token", "")  # the script moves it to the body
        try:
            record, secret = await self._connect.exchange(
                sid, token if isinstance(token, str) else "", _deadline()
            )
        except CredvaultError as error:
            audit(request, "Open", sid, None, error.code, error.reason)
            return self._problem(error)
        audit(request, "Open", sid, record, "OK", "")
        response = web.HTTPSeeOther(self._next(record))
        set_session_cookie(response, secret, self._path(sid), record.expires_at, self._secure)
        raise response

    async def choose(self, request: web.Request) -> web.StreamResponse:
        record = await self._session(request)
        providers = self._connect.providers(record)
        if len(providers) == 1:
            raise web.HTTPSeeOther(self._path(record.session_id, f"/providers/{providers[0].id}"))
        return self._render(
            "choose.html", title="Choose the account to connect", record=record, providers=providers
        )

    async def form(self, request: web.Request) -> web.StreamResponse:
        record = await self._session(request)
        spec = self._spec(record, request.match_info["provider"])
        config = await self._connect.current_config(record, _deadline())
        return self._form(request, record, spec, config, Problems())

    async def submit(self, request: web.Request) -> web.StreamResponse:
        self._require_same_origin(request, "Submit")
        try:
            record = await self._session(request)
        except _Stop as refused:
            audit(request, "Submit", request.match_info["sid"], None, refused.code, refused.reason)
            raise
        spec = self._spec(record, request.match_info["provider"])
        form = await request.post()
        cookie = request.cookies.get(COOKIE, "")
        if not csrf_valid(cookie, record.session_id, str(form.get(CSRF_FIELD, ""))):
            audit(request, "Submit", record.session_id, record, "PERMISSION_DENIED", "CSRF_TOKEN_INVALID")
            return self._problem(
                PermissionDeniedError("the form had expired; open it again", reason="CSRF_TOKEN_INVALID")
            )
        values = {f.path: _cleaned(form.get(f.path)) for f in spec.fields}
        credentials = {f.name: values[f.path] for f in spec.fields if f.location is FieldLocation.CREDENTIALS}
        config = {
            f.name: values[f.path]
            for f in spec.fields
            if f.location is FieldLocation.CONFIG and values[f.path]
        }
        try:
            done = await self._connect.submit(record.session_id, cookie, spec.id, credentials, config)
        except CredvaultError as error:
            audit(request, "Submit", record.session_id, record, error.code, error.reason)
            if error.reason.startswith("CONNECT_SESSION") or error.reason == "CONNECT_LINK_ALREADY_OPENED":
                return self._problem(error)
            left = record.submissions_left - (0 if error.reason == "CONNECT_SUBMISSION_IN_PROGRESS" else 1)
            problems = problems_of(error, spec, left)
            return self._form(request, record, spec, config, problems, status=_status(error))
        audit(request, "Submit", record.session_id, done, "OK", "")
        raise web.HTTPSeeOther(self._path(record.session_id, "/done"))

    async def done(self, request: web.Request) -> web.StreamResponse:
        record = await self._session(request, completed=True)
        if record.state is not SessionState.COMPLETED:
            raise web.HTTPSeeOther(self._next(record))
        target = ""
        if record.return_url:
            target = str(
                URL(record.return_url).update_query(
                    session_id=record.session_id, connection_id=record.connection_id, status="completed"
                )
            )
        result = {
            "type": "credvault.connect",
            "session_id": record.session_id,
            "connection_id": record.connection_id,
            "status": "completed",
        }
        embedded = request.headers.get("Sec-Fetch-Dest") == "iframe"
        return self._render(
            "done.html",
            title=f"Your {self._display_name(record)} account is connected",
            record=record,
            target=target,
            redirect=bool(target) and not embedded,
            result=json.dumps(result),
            origins=json.dumps(list(self._page.allowed_origins)),
        )

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return web.Response(body=self._static[name], content_type=STATIC[name])

    # -- helpers -------------------------------------------------------------------------------------

    async def _resumed(self, request: web.Request, completed: bool = False) -> ConnectSessionRecord | None:
        """The session when this browser holds a valid cookie for it and it can still be shown."""
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return None
        try:
            return await self._connect.resume(request.match_info["sid"], cookie, _deadline(), completed)
        except CredvaultError:
            return None

    async def _session(self, request: web.Request, completed: bool = False) -> ConnectSessionRecord:
        cookie = request.cookies.get(COOKIE, "")
        try:
            return await self._connect.resume(request.match_info["sid"], cookie, _deadline(), completed)
        except NotFoundError:
            embedded = request.headers.get("Sec-Fetch-Dest") == "iframe"
            missing = _no_cookie(embedded)
            raise self._stop(self._problem(missing), missing) from None
        except CredvaultError as error:
            raise self._stop(self._problem(error), error) from None

    def _spec(self, record: ConnectSessionRecord, provider: str) -> ProviderSpec:
        for spec in self._connect.providers(record):
            if spec.id == provider:
                return spec
        raise web.HTTPNotFound()

    def _display_name(self, record: ConnectSessionRecord) -> str:
        specs = self._connect.providers(record)
        return next((s.display_name for s in specs if s.id == record.provider), record.provider)

    def _form(
        self,
        request: web.Request,
        record: ConnectSessionRecord,
        spec: ProviderSpec,
        config: Any,
        problems: Problems,
        status: int = 200,
    ) -> web.Response:
        fields = [
            {
                "spec": f,
                "id": field_id(f),
                "error_id": error_id(f),
                "value": "" if f.secret else config.get(f.name, ""),
                "error": problems.fields.get(f.path, ""),
                "described_by": problems.described_by.get(f.path, ""),
            }
            for f in spec.fields
        ]
        first_error = next((f["id"] for f in fields if f["error"] or f["described_by"]), "")
        return self._render(
            "form.html",
            status=status,
            title=f"Connect {spec.display_name}",
            record=record,
            spec=spec,
            fields=fields,
            problems=problems,
            first_error=first_error,
            several=len(record.providers) > 1,
            csrf=csrf_token(request.cookies.get(COOKIE, ""), record.session_id),
        )

    def _problem(self, error: CredvaultError) -> web.Response:
        heading, text = LINK_PROBLEMS.get(error.reason, ("", ""))
        status = 404 if error.code == "NOT_FOUND" else 410 if heading else 503
        if error.code == "PERMISSION_DENIED":
            heading, text, status = "Please start again", "The page had expired. Open the link again.", 403
        elif not heading:
            heading = "Something went wrong on our side"
            text = "The page could not be shown just now. Wait a minute and reload it."
        return self._render("problem.html", status=status, title=heading, heading=heading, text=text)

    def _stop(self, response: web.Response, error: CredvaultError | None = None) -> _Stop:
        return _Stop(response, error)

    def _require_same_origin(self, request: web.Request, action: str) -> None:
        if not same_origin(request, self._origin):
            audit(request, action, request.match_info["sid"], None, "PERMISSION_DENIED", "CROSS_ORIGIN")
            raise self._stop(self._problem(PermissionDeniedError("cross-origin form", reason="CROSS_ORIGIN")))

    def _next(self, record: ConnectSessionRecord) -> str:
        if record.state is SessionState.COMPLETED:
            return self._path(record.session_id, "/done")
        providers = self._connect.providers(record)
        if len(providers) == 1:
            return self._path(record.session_id, f"/providers/{providers[0].id}")
        return self._path(record.session_id, "/providers")

    def _path(self, session_id: str, rest: str = "") -> str:
        return f"{self._root}{session_path(session_id)}{rest}"

    def _render(self, template: str, status: int = 200, **context: Any) -> web.Response:
        html = self._templates.get_template(template).render(root=self._root, **context)
        return web.Response(text=html, status=status, content_type="text/html")


def _deadline() -> Deadline:
    return Deadline(READ_TIMEOUT)


def _cleaned(value: object) -> str:
    """A form value with the whitespace a paste brings (a trailing newline, spaces) taken off."""
    return value.strip() if isinstance(value, str) else ""


def _title(providers: list[ProviderSpec]) -> str:
    return (
        f"Connect your {providers[0].display_name} account" if len(providers) == 1 else "Connect an account"
    )


def _status(error: CredvaultError) -> int:
    return {
        "INVALID_ARGUMENT": 400,
        "FAILED_PRECONDITION": 400,
        "RESOURCE_EXHAUSTED": 429,
        "ABORTED": 409,
    }.get(error.code, 503)


def _no_cookie(embedded: bool) -> NotFoundError:
    """No valid cookie: a link opened elsewhere, or (in a frame) a browser that keeps no cookie there."""
    return NotFoundError(
        "no session cookie",
        reason="CONNECT_FRAME_WITHOUT_COOKIE" if embedded else "CONNECT_SESSION_NOT_FOUND",
    )


class _Stop(Exception):
    """Ends a request early with a page (a problem page from a helper deep in a handler)."""

    def __init__(self, response: web.Response, error: CredvaultError | None = None) -> None:
        super().__init__(response.status)
        self.response = response
        self.code = error.code if error else "FAILED_PRECONDITION"
        self.reason = error.reason if error else ""


@web.middleware
async def _stops(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except _Stop as stop:
        return stop.response
