"""Runs the Connect page's HTTP server in the current event loop, beside the gRPC server.

aiohttp was chosen over Starlette on uvicorn because its AppRunner/SockSite API is made for embedding in
a loop someone else runs: it installs no signal handlers of its own (the gRPC server's SIGTERM drain
stays in charge), takes an already bound socket (so the public URL, port 0 included, is known before
the use cases are built) with SO_REUSEPORT for CREDVAULT_WORKERS, and parses forms itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import ssl

from aiohttp import web
from yarl import URL

from credvault.config import ConnectSettings, SecuritySettings
from credvault.domain.connect import SWEEP_INTERVAL, ConnectPage, ConnectService
from credvault.domain.errors import ConfigError, CredvaultError
from credvault.hostport import HostPort, parse_host_port
from credvault.web.app import ConnectPageApp

log = logging.getLogger(__name__)
SHUTDOWN_GRACE = 5.0
"""Seconds open page requests get to finish on shutdown."""


class PageServer:
    def __init__(self, sock: socket.socket, page: ConnectPage, tls: ssl.SSLContext | None) -> None:
        self._sock = sock
        self.page = page
        self._tls = tls
        self._runner: web.AppRunner | None = None
        self._sweeper: asyncio.Task[None] | None = None

    @classmethod
    def bind(cls, settings: ConnectSettings, security: SecuritySettings, reuse_port: bool) -> PageServer:
        """Binds `settings.listen` now (ConfigError when it can't) and works out the public base URL."""
        assert settings.listen is not None
        try:
            listen = parse_host_port(settings.listen)
        except ValueError:
            raise ConfigError(
                f"CREDVAULT_CONNECT_LISTEN must be host:port, not {settings.listen!r}"
            ) from None
        try:
            family, kind, proto, _, address = socket.getaddrinfo(
                listen.host or None, listen.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )[0]
            sock = socket.socket(family, kind, proto)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(address)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {settings.listen} (CREDVAULT_CONNECT_LISTEN): {exc.strerror}"
            ) from None
        tls = _tls(security)
        base = settings.url or _base_url(listen.with_port(sock.getsockname()[1]), tls is not None)
        return cls(sock, ConnectPage(base_url=base, allowed_origins=settings.allowed_origins), tls)

    @property
    def secure(self) -> bool:
        """Cookies get the Secure flag: the page or the ingress in front of it speaks HTTPS."""
        return self._tls is not None or URL(self.page.base_url).scheme == "https"

    async def start(self, connect: ConnectService) -> None:
        app = ConnectPageApp(connect, self.page, self.secure).application()
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_GRACE
        )
        await self._runner.setup()
        await web.SockSite(self._runner, self._sock, ssl_context=self._tls).start()
        self._sweeper = asyncio.create_task(_sweep(connect))

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self._runner is not None:
            await self._runner.cleanup()
        self._sock.close()


def _tls(security: SecuritySettings) -> ssl.SSLContext | None:
    """The gRPC port's certificate and key (client certificates are not asked for: people use the page)."""
    if security.tls_cert is None or security.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(security.tls_cert, security.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"the Connect page cannot use CREDVAULT_TLS_CERT/CREDVAULT_TLS_KEY: {exc}"
        ) from None
    return context


def _base_url(bound: HostPort, tls: bool) -> str:
    if bound.host in ("", "0.0.0.0", "::"):
        bound = HostPort(socket.getfqdn(), bound.port)
    return f"{'https' if tls else 'http'}://{bound}"


async def _sweep(connect: ConnectService) -> None:
    """Forgets ended sessions about once an hour, each replica at its own random moment."""
    while True:
        await asyncio.sleep(random.uniform(0.5, 1.5) * SWEEP_INTERVAL)
        try:
            await connect.sweep()
        except CredvaultError as error:
            log.warning("could not sweep ended connect sessions (%s); trying again later", error.reason)
