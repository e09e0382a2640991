"""`TenantWatch`: one tenant's WatchConnectionEvents stream, held open in a background thread for the
auth header cache: reconnected with backoff and resumed from the last cursor it saw."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

import grpc

from credvault_client.v1 import credvault_pb2 as pb
from credvault_client.v1 import credvault_pb2_grpc

log = logging.getLogger("credvault_client.cache")

FIRST_DELAY = 0.1
"""Seconds before the first reconnection attempt; doubled after each failed one."""
MAX_DELAY = 30.0
"""The longest wait between reconnection attempts."""
WATCH_HEADER = "credvault-watch"
"""Initial metadata the server sends ("live") once a watch is in place."""
STABLE_AFTER = 1.0
"""Seconds a stream must have been open for its end to start the backoff afresh."""


class TenantWatch:
    """Follows one tenant's connection events until `stop()`.

    `on_event` gets every event. `on_gap` is called whenever the stream becomes live without a cursor to
    resume from (the first time, and after OUT_OF_RANGE): events may have been missed, so whatever was
    cached for the tenant is suspect. `settled` is set once the stream is live or has failed once, so a
    caller can wait for either before its first fetch. While the stream is down the log says so once,
    and again when it is back.
    """

    def __init__(
        self,
        stub: credvault_pb2_grpc.CredentialVaultStub,
        tenant_id: str,
        on_event: Callable[[pb.ConnectionEvent], None],
        on_gap: Callable[[], None],
    ) -> None:
        self.tenant_id = tenant_id
        self.settled = threading.Event()
        self._stub = stub
        self._on_event = on_event
        self._on_gap = on_gap
        self._stopped = threading.Event()
        self._live = threading.Event()
        self._down_logged = False
        self._lock = threading.Lock()
        self._call: grpc.CallIterator[pb.ConnectionEvent] | None = None
        self._thread = threading.Thread(target=self._run, name=f"credvault-watch-{tenant_id}", daemon=True)

    @property
    def live(self) -> bool:
        """Whether the stream is open right now (events reach the cache)."""
        return self._live.is_set()

    def start(self) -> TenantWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ends the stream; returns without waiting for the thread (it ends on its own at once)."""
        self._stopped.set()
        with self._lock:
            if self._call is not None:
                self._call.cancel()  # type: ignore[no-untyped-call]  # grpc-stubs leaves it untyped

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        cursor = ""
        delay = FIRST_DELAY
        while not self._stopped.is_set():
            request = pb.WatchConnectionEventsRequest(tenant_id=self.tenant_id, after=cursor)
            call = self._stub.WatchConnectionEvents(request)
            with self._lock:
                self._call = call
            if self._stopped.is_set():
                call.cancel()  # type: ignore[no-untyped-call]
            live_since = None
            expired = False
            try:
                # The server sends its headers, with WATCH_HEADER, once it has subscribed us; a refusal
                # comes with none. A server that sends no WATCH_HEADER is known to be live by its first
                # event.
                if dict(call.initial_metadata()).get(WATCH_HEADER) == "live":
                    live_since = self._went_live(resumed=bool(cursor))
                for event in call:
                    if live_since is None:
                        live_since = self._went_live(resumed=bool(cursor))
                    cursor = event.cursor or cursor
                    self._on_event(event)
            except grpc.RpcError as error:
                if self._stopped.is_set():
                    break
                if error.code() is grpc.StatusCode.OUT_OF_RANGE:
                    cursor = ""  # too old to resume: watch from now at once; on_gap drops what may be stale
                    expired = True
                elif not self._down_logged:
                    log.warning(
                        "cannot watch tenant %s's connection events (%s: %s); cached auth headers are "
                        "reused until their cache_ttl and no longer, until the stream is back",
                        self.tenant_id,
                        error.code().name,
                        error.details(),
                    )
                    self._down_logged = True
            finally:
                self._live.clear()
                self.settled.set()
            if expired:
                continue
            if live_since is not None and time.monotonic() - live_since >= STABLE_AFTER:
                delay = FIRST_DELAY
            self._stopped.wait(random.uniform(0, delay))  # full jitter: replicas' clients spread out
            delay = min(delay * 2, MAX_DELAY)

    def _went_live(self, *, resumed: bool) -> float:
        if not resumed:
            self._on_gap()
        self._live.set()
        self.settled.set()
        if self._down_logged:
            log.info("watching tenant %s's connection events again", self.tenant_id)
            self._down_logged = False
        return time.monotonic()
