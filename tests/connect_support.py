"""What the Connect page tests share: the embedding application (a page on an allowed origin), the
Connect page's address, sessions made over gRPC, and one browser per module."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from support import CredvaultProcess

from credvault.v1 import credvault_pb2 as pb

PAGE = re.compile(r"credvault connect page on (\S+)")
EMBEDDING = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme app</title></head>
<body><h1>Acme app</h1><iframe title="Connect your account" src="{src}" width="900" height="900"></iframe>
<script>
window.received = [];
window.addEventListener("message", function (event) {{
  window.received.push({{origin: event.origin, data: event.data}});
}});
</script></body></html>"""


def page_url(process: CredvaultProcess) -> str:
    """The base URL the server announced for its Connect page."""
    found = PAGE.findall(process.stdout())
    assert found, "the server announced no Connect page"
    return str(found[-1])


def create_session(stub: Any, tenant: str, **fields: Any) -> pb.ConnectSession:
    ttl = fields.pop("ttl_seconds", None)
    request = pb.CreateConnectSessionRequest(tenant_id=tenant, **fields)
    if ttl is not None:
        request.ttl.FromSeconds(ttl)
    session: pb.ConnectSession = stub.CreateConnectSession(request, timeout=10)
    return session


def get_session(stub: Any, tenant: str, session_id: str) -> pb.ConnectSession:
    request = pb.GetConnectSessionRequest(tenant_id=tenant, session_id=session_id)
    session: pb.ConnectSession = stub.GetConnectSession(request, timeout=10)
    return session


class Embedder:
    """An application on another port of 127.0.0.1 (same site, another origin): `/embed?src=` frames a
    Connect page and records the messages it posts; `/back` is a return_url that records its query."""

    def __init__(self) -> None:
        self.returns: list[dict[str, str]] = []
        embedder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/embed":
                    body = EMBEDDING.format(src=query["src"].replace('"', "&quot;"))
                elif parts.path == "/back":
                    embedder.returns.append(query)
                    body = "<!doctype html><html lang='en'><title>Acme</title><h1>Back in Acme</h1></html>"
                else:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def running_embedder() -> Iterator[Embedder]:
    embedder = Embedder()
    yield embedder
    embedder.stop()
