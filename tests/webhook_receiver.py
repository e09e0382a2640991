"""A webhook receiver for tests: a local HTTP server that verifies each delivery's Standard Webhooks
signature (with the `standardwebhooks` package, as a receiver would) and records what it got. It can
refuse deliveries for a while and answer slowly, to exercise retries and a replica's death mid-delivery."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass
class Delivery:
    webhook_id: str
    body: dict[str, Any]
    at: float
    raw: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class WebhookReceiver:
    secret: str
    fail_next: int = 0
    """Deliveries still to refuse (HTTP 503)."""
    delay: float = 0.0
    """Seconds to wait before answering each delivery."""
    deliveries: list[Delivery] = field(default_factory=list)
    refused: list[Delivery] = field(default_factory=list)
    forged: int = 0
    """Deliveries whose signature did not verify."""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self._arrived = threading.Condition(self._lock)
        verifier = Webhook(self.secret)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                try:
                    body = verifier.verify(raw, dict(self.headers.items()))
                except WebhookVerificationError:
                    with receiver._lock:
                        receiver.forged += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                time.sleep(receiver.delay)
                delivery = Delivery(
                    self.headers["webhook-id"], body, time.time(), raw, dict(self.headers.items())
                )
                with receiver._lock:
                    refuse = receiver.fail_next > 0
                    if refuse:
                        receiver.fail_next -= 1
                        receiver.refused.append(delivery)
                    else:
                        receiver.deliveries.append(delivery)
                    receiver._arrived.notify_all()
                self.send_response(503 if refuse else 204)
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hooks/credvault"

    def wait_for(self, predicate: Any, timeout: float = 60.0) -> list[Delivery]:
        """Waits until `predicate(deliveries)` holds; returns the deliveries."""
        with self._lock:
            assert self._arrived.wait_for(lambda: predicate(self.deliveries), timeout), (
                f"deliveries: {[json.dumps(d.body)[:200] for d in self.deliveries]}"
            )
            return list(self.deliveries)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
