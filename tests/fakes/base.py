"""A small threaded HTTP server on loopback that routes requests to a fake API's handler methods."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    received_at: float = field(default_factory=time.time)
    body: bytes = b""


@dataclass
class Response:
    status: int
    body: Any = None
    """A dict or list is sent as compact JSON, a str as text/plain, None as no body."""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (a hanging provider)."""
    drop: bool = False
    """Close the connection without answering (a provider that can't be reached)."""

    def encoded(self) -> tuple[bytes, str]:
        if self.body is None:
            return b"", ""
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain;charset=UTF-8"
        return json.dumps(self.body, separators=(",", ":")).encode(), "application/json; charset=utf-8"


Override = Callable[[Request], Response | None]


class FakeAPI:
    """Subclasses implement `handle(request) -> Response`. Tests may register overrides that answer
    first (for rate limits, outages, hangs), keyed by whatever the subclass reads from the request."""

    base_path = ""
    default_headers: Mapping[str, str] = {}

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.overrides: dict[str, Response] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.base_path}"

    def start(self) -> FakeAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    def override(self, key: str, response: Response) -> None:
        """Answers `response` to every request whose `override_key` is `key`."""
        self.overrides[key] = response

    def override_key(self, request: Request) -> str:
        """What overrides are looked up by (a subclass returns e.g. the API key sent)."""
        return ""

    def _answer(self, request: Request) -> Response:
        self.requests.append(request)
        response = self.overrides.get(self.override_key(request))
        return response if response is not None else self.handle(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query={k: v[0] for k, v in parse_qs(parts.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                response = fake._answer(request)
                if response.delay:
                    time.sleep(response.delay)
                if response.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                body, content_type = response.encoded()
                try:
                    self.send_response(response.status)
                    headers = {**fake.default_headers, **response.headers}
                    if content_type and "content-type" not in {k.lower() for k in headers}:
                        headers["Content-Type"] = content_type
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        return Handler
