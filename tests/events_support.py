"""Watching connection events from tests: a watch call read on a thread into a queue, so a test waits for
the next event (or for the call's end) without blocking forever."""

from __future__ import annotations

import queue
import threading
from typing import Any

import grpc

from credvault.v1 import credvault_pb2 as pb

OTHER_LOG_CURSOR = "djE6MDAwMDAwMDAwMDAwMDAwMDoxOjE3NjQ1MDAwMDAwMDA"
"""A well-formed cursor of an event log this deployment does not have (made anew, or another's)."""
EVENT_WAIT = 20.0
"""Seconds a test waits for an event it expects (a bound on a hang, not a measurement)."""


class Watch:
    def __init__(self, stub: Any, tenant: str, after: str = "", metadata: Any = None) -> None:
        self.call = stub.WatchConnectionEvents(
            pb.WatchConnectionEventsRequest(tenant_id=tenant, after=after), metadata=metadata, timeout=120
        )
        self.call.initial_metadata()  # the server sends it once the watch is in place
        self._events: queue.Queue[pb.ConnectionEvent | grpc.RpcError | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for event in self.call:
                self._events.put(event)
        except grpc.RpcError as error:
            self._events.put(error)
        else:
            self._events.put(None)

    def next(self, timeout: float = EVENT_WAIT) -> pb.ConnectionEvent:
        item = self._events.get(timeout=timeout)
        if isinstance(item, grpc.RpcError):
            raise item
        assert item is not None, "the watch ended"
        return item

    def error(self, timeout: float = EVENT_WAIT) -> grpc.RpcError:
        """The status the call ended with (after any events still queued)."""
        while True:
            item = self._events.get(timeout=timeout)
            if isinstance(item, grpc.RpcError):
                return item
            assert item is not None, "the watch ended without an error"

    def nothing_queued(self) -> bool:
        return self._events.empty()

    def close(self) -> None:
        self.call.cancel()
        self._thread.join(timeout=10)

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def type_name(event: pb.ConnectionEvent) -> str:
    return pb.ConnectionEventType.Name(event.type).removeprefix("CONNECTION_EVENT_TYPE_")
