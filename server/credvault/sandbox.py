"""`credvault sandbox`: the server as `serve` runs it, but with a throwaway embedded OpenBao and a local
stand-in for JumpCloud's API, so a first session succeeds with no account, no key and no network.

The stand-in answers the one call credvault's check makes and the one a client makes first
(`GET /api/systemusers`), as JumpCloud does: 200 with a user list for the sandbox key, 401 for any other.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from credvault.config import Settings, from_env

SANDBOX_KEY = "jca_sandbox_4f3a9e7b2c1d0e8f6a5b"
"""The one API key the stand-in accepts (a real JumpCloud key looks alike: `jca_` and 36 more)."""

USERS = {
    "totalCount": 1,
    "results": [{"_id": "5f1b7c0d9e8a7b6c5d4e3f21", "username": "ada", "email": "ada@example.com"}],
}


class _StandIn(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.headers.get("x-api-key") != SANDBOX_KEY:
            self._answer(401, {"error": "Unauthorized", "message": "Unauthorized: api key user not found"})
        elif urlsplit(self.path).path == "/api/systemusers":
            self._answer(200, USERS)
        else:
            self._answer(404, {"message": "Not Found: the sandbox answers /api/systemusers only"})

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the requests carry the key."""


@contextmanager
def stand_in_jumpcloud() -> Iterator[str]:
    """Serves the stand-in on a free loopback port; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StandIn)
    thread = threading.Thread(target=server.serve_forever, name="sandbox-jumpcloud", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()


def run(
    serve: Callable[[Settings], int], say: Callable[[str], None], env: Mapping[str, str] | None = None
) -> int:
    """Runs `serve` with the sandbox's settings: the caller's environment, except that Vault is an
    embedded OpenBao in a temporary directory (removed at exit), JumpCloud is the stand-in, and the
    Connect page is on (on a free loopback port unless CREDVAULT_CONNECT_LISTEN says otherwise)."""
    settings = from_env({**(os.environ if env is None else env), "VAULT_ADDR": ""})
    with stand_in_jumpcloud() as url, tempfile.TemporaryDirectory(prefix="credvault-sandbox-") as data:
        settings = replace(
            settings,
            data_dir=Path(data) / "data",
            unseal_key_file=Path(data) / "unseal-key",  # apart from the data, and removed with it
            provider_urls={**settings.provider_urls, "jumpcloud": url},
            connect=replace(settings.connect, listen=settings.connect.listen or "127.0.0.1:0"),
        )
        say(f"sandbox: JumpCloud's API is a local stand-in at {url}; it accepts the key {SANDBOX_KEY}")
        say("sandbox: a throwaway OpenBao keeps the connections until the sandbox stops")
        return serve(settings)
