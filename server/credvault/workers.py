"""Several server processes on one port (`CREDVAULT_WORKERS`), so one host's cores all serve calls.

Python runs one thread of Python code at a time, so one process uses about one core. With N workers the
parent reserves the address with SO_REUSEPORT (which also settles port 0 on one real port), then starts
N `serve` processes that bind the same port with SO_REUSEPORT; the kernel spreads incoming
*connections* across them (not calls: a client with one channel talks to one worker). Each worker is a
replica as the design has them (docs/design.md, "Stateless replicas"): its own Vault client and header
cache, so a change made through one worker is seen by the others within CREDVAULT_CACHE_TTL.

Workers are started with `spawn` (never `fork`: gRPC's core does not survive a fork), and get their
settings through multiprocessing's pipe, not the environment. SIGTERM/SIGINT to the parent is passed on
and every worker drains its calls; if a worker dies on its own, the parent stops the rest and exits
non-zero, so a supervisor restarts the whole server rather than running it short of workers.

With CREDVAULT_METRICS_LISTEN the parent serves one /metrics for all workers, summed: the workers write
their metrics to files in a private temporary directory (prometheus-client's multiprocess mode), which
the parent reads on each scrape and removes at exit.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from multiprocessing.synchronize import Event
from types import FrameType

from credvault.config import Settings, VaultSettings
from credvault.domain.errors import ConfigError
from credvault.hostport import parse_host_port
from credvault.logs import configure_logging
from credvault.metrics import serve_registry, workers_registry
from credvault.server import serve
from credvault.undumpable import make_undumpable

log = logging.getLogger(__name__)

START_TIMEOUT = 120.0
"""Seconds a worker may take to log in to Vault and start listening."""
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def run_workers(settings: Settings, vault: VaultSettings, announce: Callable[[str], None]) -> int:
    """Runs `settings.workers` server processes on one port until SIGTERM/SIGINT; returns the exit
    code."""
    reservation, address = _reserve(settings.listen)
    try:
        with _shared_metrics(settings.metrics_listen, announce):
            return _supervise(replace(settings, listen=address, metrics_listen=None), vault, announce)
    finally:
        reservation.close()


def _supervise(settings: Settings, vault: VaultSettings, announce: Callable[[str], None]) -> int:
    """Starts the workers, announces once every one listens, and waits for a signal or a worker's
    exit."""
    address = settings.listen
    context = multiprocessing.get_context("spawn")
    workers = []
    for index in range(settings.workers):
        ready = context.Event()
        process = context.Process(
            target=_worker, args=(settings, vault, ready), name=f"credvault-worker-{index}"
        )
        workers.append((process, ready))
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for process, _ in workers:
            if process.pid is not None and process.exitcode is None:
                process.terminate()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for process, _ in workers:
            process.start()
        if not _wait_ready(workers):
            log.error("a worker did not start; stopping the others")
            stop(signal.SIGTERM, None)
            return 1
        log.info("%d workers serving on %s", len(workers), address)
        announce(f"credvault listening on {address}")
        multiprocessing.connection.wait([process.sentinel for process, _ in workers])
        if not stopping:
            log.error("a worker exited unexpectedly; stopping the others")
            stop(signal.SIGTERM, None)
        for process, _ in workers:
            process.join(settings.shutdown_grace + 5)
            if process.exitcode is None:
                process.kill()
                process.join()
        return 0 if stopping else 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def _shared_metrics(listen: str | None, announce: Callable[[str], None]) -> Iterator[None]:
    """Serves the workers' metrics on `listen` while the workers run (nothing when it is None)."""
    if listen is None:
        yield
        return
    directory = tempfile.mkdtemp(prefix="credvault-metrics-")
    # Spawned workers inherit the environment; prometheus-client reads this when they import it.
    os.environ[MULTIPROCESS_DIR] = directory
    try:
        endpoint = serve_registry(listen, workers_registry(directory))
        announce(f"credvault metrics on {endpoint.url}")
        try:
            yield
        finally:
            endpoint.close()
    finally:
        del os.environ[MULTIPROCESS_DIR]
        shutil.rmtree(directory, ignore_errors=True)


def _reserve(listen: str) -> tuple[socket.socket, str]:
    """Binds (without listening) a SO_REUSEPORT socket on `listen`, so the port is settled and stays
    ours; returns it and the address with the real port."""
    try:
        address = parse_host_port(listen)
        family, kind, proto, _, sockaddr = socket.getaddrinfo(
            address.host, address.port, type=socket.SOCK_STREAM
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.bind(sockaddr)  # without SO_REUSEPORT: fails when another server holds the port
        reservation = socket.socket(family, kind, proto)
        reservation.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        reservation.bind(sockaddr)
    except (OSError, ValueError):
        raise ConfigError(
            f"cannot listen on {listen} (CREDVAULT_LISTEN): in use or not a local address"
        ) from None
    return reservation, str(address.with_port(reservation.getsockname()[1]))


def _wait_ready(workers: Sequence[tuple[multiprocessing.process.BaseProcess, Event]]) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    for process, ready in workers:
        while not ready.wait(0.1):
            if process.exitcode is not None or time.monotonic() > deadline:
                return False
    return True


def _worker(settings: Settings, vault: VaultSettings, ready: Event) -> None:
    make_undumpable()  # a spawned worker is a new program: the parent's setting did not carry over
    configure_logging(settings.log_level)
    # A worker serves no metrics endpoint of its own, so the one line it announces is "listening".
    asyncio.run(serve(settings, vault, lambda line: ready.set(), reuse_port=True))
