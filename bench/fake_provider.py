"""A tiny stand-in for JumpCloud's API on loopback: the one call credvault's verification makes
(`GET /api/systemusers`) answers 200 for the keys it accepts (the bench's key, and any `accept`ed until
`revoke`d) and 401 for any other."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.vault import api_key

USERS = b'{"totalCount":1,"results":[{"_id":"6026a5e2e3d6b0123f4c5d6e"}]}'
REJECTED = b'{"message":"Unauthorized: api key user not found"}'


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    accepted: set[str]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

    def do_GET(self) -> None:
        key = self.headers.get("x-api-key")
        ok = self.path.startswith("/api/systemusers") and key in self.server.accepted
        body = USERS if ok else REJECTED
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


class FakeJumpCloud:
    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.accepted = {api_key(0)}
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api"

    def accept(self, key: str) -> None:
        self._server.accepted.add(key)

    def revoke(self, key: str) -> None:
        self._server.accepted.discard(key)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
