"""The store's retries of transient Vault answers, against the real OpenBao behind a small proxy that
answers the first requests itself the way a Vault cluster does while it elects a leader or sheds load:
307 to a dead leader, 500 "active node not found", 503 sealed, 429/412 with Retry-After."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from support import free_port

from credvault.config import VaultSettings
from credvault.domain.errors import AlreadyExistsError, StoreUnavailableError
from credvault.domain.model import ConnectionRecord, Credentials, Status
from credvault.vault.store import VaultStore


@dataclass
class FaultyProxy:
    """Forwards to `upstream`; the next `faults` requests to a KV path are answered with `answer`."""

    upstream: str
    faults: int = 0
    answer: tuple[int, dict[str, str], str] = (500, {}, "")
    faulted: int = 0
    server: ThreadingHTTPServer = field(init=False)

    def __post_init__(self) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if "/credvault/" in self.path and proxy.faults > 0:
                    proxy.faults -= 1
                    proxy.faulted += 1
                    status, headers, text = proxy.answer
                    self._reply(status, headers, text.encode())
                    return
                forwarded = requests.request(
                    self.command,
                    proxy.upstream + self.path,
                    headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
                    data=body,
                    allow_redirects=False,
                    timeout=10,
                )
                self._reply(forwarded.status_code, {"Content-Type": "application/json"}, forwarded.content)

            def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_LIST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def addr(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail_next(
        self, count: int, status: int, headers: dict[str, str] | None = None, text: str = ""
    ) -> int:
        """Sets the next faults; returns how many of the previous ones were answered."""
        faulted = self.faulted
        self.faults, self.faulted, self.answer = count, 0, (status, headers or {}, text)
        return faulted


@pytest.fixture(scope="module")
def proxy(openbao) -> Iterator[FaultyProxy]:
    started = FaultyProxy(openbao.addr)
    yield started
    started.server.shutdown()
    started.server.server_close()


@pytest.fixture
def store(proxy, openbao) -> Iterator[VaultStore]:
    opened = VaultStore(
        VaultSettings(
            addr=proxy.addr, role_id=openbao.role_id, secret_id=openbao.secret_id, create_mount=False
        )
    )
    asyncio.run(opened.open(10))
    yield opened
    opened.close()


def record(tenant: str, connection_id: str) -> ConnectionRecord:
    now = datetime.now(UTC)
    return ConnectionRecord(
        tenant_id=tenant,
        connection_id=connection_id,
        provider="jumpcloud",
        config={},
        labels={},
        status=Status.ACTIVE,
        created_at=now,
        updated_at=now,
        last_verified_at=now,
        expires_at=None,
        last_outcome=None,
    )


DEAD = f"http://127.0.0.1:{free_port()}"
TRANSIENT = [
    pytest.param(307, {"Location": f"{DEAD}/v1/credvault/data/x"}, "", id="redirect-to-dead-leader"),
    pytest.param(500, {}, '{"errors":["active cluster node not found"]}', id="no-active-node"),
    pytest.param(503, {}, '{"errors":["Vault is sealed"]}', id="sealed-standby"),
    pytest.param(429, {"Retry-After": "0"}, "", id="rate-limited"),
    pytest.param(412, {}, "", id="index-not-yet-replicated"),
]


@pytest.mark.parametrize(("status", "headers", "text"), TRANSIENT)
def test_transient_answers_are_retried_within_the_deadline(store, proxy, tenant, status, headers, text):
    proxy.fail_next(2, status, headers, text)
    version = asyncio.run(store.create(record(tenant, "c"), Credentials({"api_key": "k"}), deadline=5))
    assert version == 1 and proxy.faulted == 2
    proxy.fail_next(2, status, headers, text)
    assert asyncio.run(store.read(tenant, "c", deadline=5)).credentials["api_key"] == "k"


@pytest.mark.parametrize(
    ("status", "headers", "text", "reason"),
    [
        (307, {"Location": f"{DEAD}/v1/x"}, "", "VAULT_NO_LEADER"),
        (500, {}, '{"errors":["active cluster node not found"]}', "VAULT_NO_LEADER"),
        (503, {}, '{"errors":["Vault is sealed"]}', "VAULT_SEALED"),
        (429, {"Retry-After": "30"}, "", "VAULT_RATE_LIMITED"),
    ],
)
def test_retries_stop_at_the_deadline_and_say_why(store, proxy, tenant, status, headers, text, reason):
    proxy.fail_next(10**6, status, headers, text)
    try:
        with pytest.raises(StoreUnavailableError) as unavailable:
            asyncio.run(store.read(tenant, "c", deadline=1.5))
    finally:
        faulted = proxy.fail_next(0, 200)
    assert unavailable.value.reason == reason
    if status == 429:
        assert unavailable.value.retry_after == 30  # passed on to the caller as RetryInfo
        assert faulted == 1  # Retry-After is beyond the deadline: no pointless retry


def test_a_retried_create_recognises_its_own_write(store, tenant):
    mine = record(tenant, "own")
    secret = Credentials({"api_key": "k"})
    asyncio.run(store.create(mine, secret, deadline=5))
    # As if the first answer was lost and the same write was sent again: success, same version.
    assert asyncio.run(store.create(mine, secret, deadline=5)) == 1
    with pytest.raises(AlreadyExistsError):
        asyncio.run(store.create(record(tenant, "own"), secret, deadline=5))


def test_a_cancel_that_meets_the_answer_still_cancels(store):
    """A background loop cancelled at shutdown while its Vault call is finishing must end, not carry on
    with the answer (Python 3.11's asyncio.wait_for lost such a cancellation, and shutdown then waited
    for the loop for ever)."""
    release = threading.Event()

    async def cancelled_as_it_answers() -> None:
        call = asyncio.create_task(store.session.run("test", lambda: release.wait(5), deadline=5))
        await asyncio.sleep(0.1)  # the call waits in the pool
        release.set()
        time.sleep(0.2)  # blocking the loop: the answer is in, its callback queued but not yet run
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call

    asyncio.run(cancelled_as_it_answers())
