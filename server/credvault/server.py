"""Builds the gRPC server (credvault service, health, reflection) and runs it until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

import grpc
import httpx
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from credvault.cache import HeaderCache
from credvault.config import Settings, VaultSettings
from credvault.errors import ConfigError, CredvaultError
from credvault.providers.registry import ProviderRegistry
from credvault.service import CredentialService
from credvault.servicer import CredentialVaultServicer
from credvault.status import ErrorInterceptor
from credvault.store import VaultStore
from credvault.v1 import credvault_pb2, credvault_pb2_grpc

log = logging.getLogger(__name__)

SERVICE_NAME = credvault_pb2.DESCRIPTOR.services_by_name["CredentialVault"].full_name
HEALTH_INTERVAL = 2.0
"""Seconds between checks that Vault answers and is unsealed."""


async def serve(
    settings: Settings, vault: VaultSettings, announce: Callable[[str], None], reuse_port: bool = False
) -> None:
    """Runs until SIGTERM or SIGINT, then drains in-flight calls for `shutdown_grace` seconds.
    `reuse_port` lets the worker processes of `credvault.workers` share one port; otherwise binding a
    port that is in use fails loudly."""
    registry = ProviderRegistry.discover(settings.provider_urls)
    store = VaultStore(vault)
    try:
        await store.open()
        async with httpx.AsyncClient(follow_redirects=False, trust_env=True) as http:
            cache = HeaderCache(size=settings.cache_size, ttl=settings.cache_ttl)
            service = CredentialService(registry, store, http, settings.verify_timeout, cache=cache)
            server = grpc.aio.server(
                interceptors=[ErrorInterceptor()],
                options=[("grpc.so_reuseport", int(reuse_port))],
            )
            credvault_pb2_grpc.add_CredentialVaultServicer_to_server(CredentialVaultServicer(service), server)
            health_servicer = health.aio.HealthServicer()
            health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
            reflection.enable_server_reflection(
                [
                    SERVICE_NAME,
                    health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                    reflection.SERVICE_NAME,
                ],
                server,
            )
            port = _bind(server, settings.listen)
            await server.start()
            host = settings.listen.rsplit(":", 1)[0]
            announce(f"credvault listening on {host}:{port}")
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            watchers = [
                asyncio.create_task(_watch_vault(store, health_servicer)),
                asyncio.create_task(_renew_token(store)),
            ]
            await stop.wait()
            log.info("shutting down: draining in-flight calls for up to %.0fs", settings.shutdown_grace)
            for task in watchers:
                task.cancel()
            await _set_health(health_servicer, False)
            await server.stop(settings.shutdown_grace)
    finally:
        store.close()


def _bind(server: grpc.aio.Server, listen: str) -> int:
    try:
        port = server.add_insecure_port(listen)
    except RuntimeError:
        port = 0
    if port == 0:
        raise ConfigError(f"cannot listen on {listen} (CREDVAULT_LISTEN): in use or not a local address")
    return port


async def _set_health(servicer: health.aio.HealthServicer, serving: bool) -> None:
    status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
    for name in ("", SERVICE_NAME):
        await servicer.set(name, status)


async def _watch_vault(store: VaultStore, servicer: health.aio.HealthServicer) -> None:
    """Keeps the health status in step with Vault: NOT_SERVING while it is unreachable or sealed."""
    serving: bool | None = None
    while True:
        try:
            now_serving = not await store.sealed()
            problem = "sealed"
        except CredvaultError as error:
            now_serving, problem = False, error.message
        if now_serving != serving:
            if now_serving:
                log.info("Vault is reachable and unsealed: SERVING")
            else:
                log.warning("Vault is not usable (%s): NOT_SERVING", problem)
            await _set_health(servicer, now_serving)
            serving = now_serving
        await asyncio.sleep(HEALTH_INTERVAL)


async def _renew_token(store: VaultStore) -> None:
    """Renews the service's Vault token at half its life, logging in again when renewal runs out."""
    while True:
        try:
            due = await store.renew_token()
        except CredvaultError as error:
            log.warning("could not renew the Vault token (%s); trying again soon", error.message)
            due = 10.0
        if due <= 0:
            return
        await asyncio.sleep(max(due, 5.0))
