"""`FreezingProxy`: a TCP proxy on loopback whose connections can be frozen, to stand for a network
partition or a frozen host: bytes stop going either way, yet no socket is closed, so neither end gets a
FIN or an RST. Connections opened after a freeze are forwarded as usual (the path to the server is back,
as after a failover), which lets a test tell "noticed and reconnected" from "stuck"."""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType


class FreezingProxy:
    def __init__(self, upstream: str) -> None:
        host, _, port = upstream.rpartition(":")
        self._upstream = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket, threading.Event]] = []
        self._closed = False
        threading.Thread(target=self._accept, name="freezing-proxy", daemon=True).start()

    def freeze(self) -> None:
        """From now on, the connections open now forward nothing: what either end sends is dropped."""
        with self._lock:
            for _, _, frozen in self._pairs:
                frozen.set()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pairs, self._pairs = self._pairs, []
        self._listener.close()
        for client, server, _ in pairs:
            client.close()
            server.close()

    def __enter__(self) -> FreezingProxy:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
                server = socket.create_connection(self._upstream)
            except OSError:
                return  # closed
            frozen = threading.Event()
            with self._lock:
                if self._closed:
                    client.close()
                    server.close()
                    return
                self._pairs.append((client, server, frozen))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=_pump, args=(source, sink, frozen), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket, frozen: threading.Event) -> None:
    with contextlib.suppress(OSError):  # the proxy is closing
        while data := source.recv(65536):
            if not frozen.is_set():
                sink.sendall(data)
    if not frozen.is_set():
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)  # pass an end on, as a live path would; a frozen one passes nothing
