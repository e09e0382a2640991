"""Builds the gRPC server (credvault service, health, reflection) and runs it until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import faulthandler
import logging
import signal
from collections.abc import Callable

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer  # public as health.aio, which grpc-stubs lacks
from grpc_reflection.v1alpha import reflection

from credvault import rechecks
from credvault.config import Settings, VaultSettings
from credvault.domain.cache import HeaderCache
from credvault.domain.connect import ConnectService
from credvault.domain.errors import ConfigError, CredvaultError, StoreUnavailableError
from credvault.domain.service import CredentialService
from credvault.edge.access import AccessPolicy
from credvault.edge.auth import AccessInterceptor
from credvault.edge.capacity import server_options
from credvault.edge.reflection import commented_pool
from credvault.edge.servicer import CredentialVaultServicer
from credvault.edge.status import ErrorInterceptor
from credvault.edge.transport import server_credentials
from credvault.events.feed import EventFeed
from credvault.events.journal import Journal
from credvault.events.webhooks import Webhooks
from credvault.hostport import parse_host_port
from credvault.logs import RequestLogInterceptor
from credvault.metrics import Metrics
from credvault.providers.registry import ProviderRegistry
from credvault.v1 import credvault_pb2, credvault_pb2_grpc
from credvault.vault.connect_sessions import ConnectSessionStore
from credvault.vault.event_documents import EventDocuments
from credvault.vault.store import VaultStore
from credvault.web.server import PageServer

log = logging.getLogger(__name__)

SERVICE_NAME = credvault_pb2.DESCRIPTOR.services_by_name["CredentialVault"].full_name
HEALTH_INTERVAL = 2.0
"""Seconds between checks that Vault answers and is unsealed."""
OPEN_TIMEOUT = 10.0
"""Seconds start-up waits for Vault before serving NOT_SERVING and trying again in the background."""
SHUTDOWN_CLEANUP = 15.0
"""Seconds the process may take after the drain to stop its background work and exit. Past them it
writes every thread's stack to stderr and exits with status 1: a stop that is stuck is reported with
where it waits, instead of holding an orchestrator's rollout until it kills the process."""


async def serve(
    settings: Settings, vault: VaultSettings, announce: Callable[[str], None], reuse_port: bool = False
) -> None:
    """Runs until SIGTERM or SIGINT, then drains in-flight calls for `shutdown_grace` seconds.
    `reuse_port` lets the worker processes of `credvault.workers` share one port; otherwise binding a
    port that is in use fails loudly."""
    registry = ProviderRegistry.discover(settings.provider_urls)
    security = settings.security
    policy = AccessPolicy.load(security.access_policy) if security.access_policy else None
    credentials = server_credentials(security)
    metrics = Metrics()
    endpoint = metrics.serve(settings.metrics_listen) if settings.metrics_listen else None
    store = VaultStore(vault, timed=metrics.vault_call)
    page = PageServer.bind(settings.connect, security, reuse_port) if settings.connect.listen else None
    documents = EventDocuments(store.session, vault)
    cache = HeaderCache(size=settings.cache_size, ttl=settings.cache_ttl)
    journal = Journal(
        store,
        documents,
        observe=lambda event: metrics.event(event.type.value),
        on_news=lambda events: cache.forget(
            None if events is None else [(e.tenant_id, e.connection_id) for e in events]
        ),
    )
    try:
        if endpoint is not None:
            announce(f"credvault metrics on {endpoint.url}")
        opened = await _open(store, OPEN_TIMEOUT)
        feed = EventFeed(journal, settings.events.retention, settings.events.poll)
        feed.start()
        webhooks = None
        if settings.events.webhook_urls:
            webhooks = Webhooks(
                journal, documents, settings.events, metrics.delivery, metrics.undelivered_age
            )
            webhooks.start()
        expiry = rechecks.build_expiry(settings.recheck, vault, store, journal)
        async with httpx.AsyncClient(follow_redirects=False, trust_env=True) as http:
            service = CredentialService(
                registry,
                store,
                http,
                settings.verify_timeout,
                settings.max_verifications,
                observe_verification=metrics.verification,
                cache=cache,
                journal=journal,
                next_check=rechecks.next_check(rechecks.timing_of(settings.recheck)),
                arm_expiry=expiry.arm,
            )
            connect = ConnectService(
                service,
                ConnectSessionStore(store.session, vault),
                page.page if page else None,
                submit_timeout=settings.verify_timeout + 5,
                observe_session=metrics.connect_session,
                observe_submission=metrics.connect_submission,
            )
            server = grpc.aio.server(
                # Outermost first: the request id is set before anything logs, the access line and the
                # metrics see the status the error interceptor chose, and the access policy is checked
                # before any handler runs.
                interceptors=[
                    RequestLogInterceptor(),
                    metrics.interceptor(),
                    ErrorInterceptor(),
                    AccessInterceptor(policy),
                ],
                options=server_options(settings.capacity, reuse_port),
                maximum_concurrent_rpcs=settings.capacity.max_concurrent_rpcs,
            )
            credvault_pb2_grpc.add_CredentialVaultServicer_to_server(
                CredentialVaultServicer(service, feed, settings.client_cache_ttl, connect), server
            )
            health_servicer = HealthServicer()
            # Logged in to Vault already: SERVING from the first call, so a readiness probe right
            # after "listening" does not see a NOT_SERVING that only waits for the first check.
            await _set_health(health_servicer, opened)
            metrics.serving(opened)
            health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
            reflection.enable_server_reflection(
                [
                    SERVICE_NAME,
                    health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                    reflection.SERVICE_NAME,
                ],
                server,
                pool=commented_pool(),
            )
            port = _bind(server, settings.listen, credentials)
            await server.start()
            if page is not None:
                await page.start(connect)
                announce(f"credvault connect page on {page.page.base_url}")
            try:
                where = str(parse_host_port(settings.listen).with_port(port))
            except ValueError:  # unix:path
                where = settings.listen
            announce(f"credvault listening on {where}" + (" (TLS)" if credentials else ""))
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            watchers = [
                asyncio.create_task(_watch_vault(store, health_servicer, opened, metrics.serving)),
                asyncio.create_task(_renew_token(store)),
                asyncio.create_task(expiry.run()),
            ]
            if settings.recheck.interval > 0:
                watchers.append(
                    asyncio.create_task(
                        rechecks.build(
                            settings.recheck, vault, store, journal, service, expiry, observe=metrics.recheck
                        ).run()
                    )
                )
            await stop.wait()
            log.info("shutting down: draining in-flight calls for up to %.0fs", settings.shutdown_grace)
            faulthandler.dump_traceback_later(settings.shutdown_grace + SHUTDOWN_CLEANUP, exit=True)
            for task in watchers:
                task.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
            await _set_health(health_servicer, False)
            if webhooks is not None:  # another replica takes delivery over once the lease runs out
                await webhooks.close()
            await feed.close()  # watchers are told to watch again elsewhere: they never hold the drain
            await server.stop(settings.shutdown_grace)
            await service.close()
    finally:
        if page is not None:
            await page.stop()
        await journal.close()
        store.close()
        if endpoint is not None:
            endpoint.close()


def _bind(server: grpc.aio.Server, listen: str, credentials: grpc.ServerCredentials | None) -> int:
    try:
        if credentials is None:
            port = server.add_insecure_port(listen)
        else:
            port = server.add_secure_port(listen, credentials)
    except RuntimeError:
        port = 0
    if port == 0:
        raise ConfigError(f"cannot listen on {listen} (CREDVAULT_LISTEN): in use or not a local address")
    return port


async def _set_health(servicer: HealthServicer, serving: bool) -> None:
    status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
    for name in ("", SERVICE_NAME):
        await servicer.set(name, status)


async def _open(store: VaultStore, timeout: float) -> bool:
    """Logs in to Vault; False (and a warning) when Vault can't be used yet. Bad credentials or
    configuration still stop the start (ConfigError)."""
    try:
        await store.open(timeout)
    except StoreUnavailableError as error:
        log.warning("Vault is not usable yet (%s); serving NOT_SERVING until it is", error.message)
        return False
    return True


async def _watch_vault(
    store: VaultStore, servicer: HealthServicer, opened: bool, report: Callable[[bool], None]
) -> None:
    """Keeps the health status in step with Vault: NOT_SERVING while it is unreachable or sealed, or
    while start-up could not log in yet (retried here)."""
    serving = opened
    while True:
        problem = ""
        try:
            await store.check(HEALTH_INTERVAL)
            if not opened:
                opened = await _open(store, HEALTH_INTERVAL * 2)
                problem = "" if opened else "not logged in yet"
        except ConfigError as error:
            problem = error.message
            log.error("%s", problem)
        except CredvaultError as error:
            problem = error.message
        except Exception as error:  # a background loop must outlive any surprise; the type says enough
            problem = f"unexpected {type(error).__name__}"
            log.error("checking Vault failed: %s", problem)
        now_serving = not problem
        if now_serving != serving:
            if now_serving:
                log.info("Vault is reachable and unsealed: SERVING")
            else:
                log.warning("Vault is not usable (%s): NOT_SERVING", problem)
            await _set_health(servicer, now_serving)
            report(now_serving)
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
        except Exception as error:  # never let renewal stop for good: the token would expire
            log.error(
                "could not renew the Vault token (unexpected %s); trying again soon", type(error).__name__
            )
            due = 10.0
        if due <= 0:
            return
        await asyncio.sleep(max(due, 5.0))
