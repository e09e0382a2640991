"""Prometheus metrics, served over HTTP at `/metrics` on their own port (`CREDVAULT_METRICS_LISTEN`).

Built on `prometheus-client` with a registry of our own (no process-wide default). Series:

- `credvault_rpc_duration_seconds{service, method, code}`: unary RPCs (its `_count` is the number of
  calls by method and status code);
- `credvault_vault_request_duration_seconds{operation, outcome}`: one per Vault call (`outcome` is `ok`
  or the error reason, e.g. `CONNECTION_NOT_FOUND`, `VAULT_UNREACHABLE`);
- `credvault_provider_verification_duration_seconds{provider}`: the providers' test calls;
- `credvault_verifications_total{provider, result, reason}`: their outcomes, `result` being `ok`,
  `rejected` (the provider said no) or `error` (the check could not be made);
- `credvault_connect_sessions_total{event}`: Connect sessions `created`, `completed`, `expired`;
- `credvault_connect_submissions_total{outcome}`: Connect page submissions, `OK` or the status code;
- `credvault_rechecks_total{provider, result}`: scheduled re-checks: `ok`, `rejected`, `expired`,
  `paused` (the provider asked to wait, or is paused) or `skipped` (checked already, or a turn late);
- `credvault_serving`: 1 while health says SERVING (Vault reachable and unsealed), else 0;
- `credvault_build_info{version}` and the process collectors (`process_*`, `python_*`; not with
  CREDVAULT_WORKERS > 1, where one endpoint sums the workers' series, see `workers_registry`).

Labels only ever hold names from a fixed set: never a tenant, connection id, request field or secret.
Reasons come from provider plugins, so any that is not an UPPER_SNAKE word becomes `OTHER`.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
)
from prometheus_client.multiprocess import MultiProcessCollector

from credvault import __version__
from credvault.domain.errors import ConfigError, CredvaultError
from credvault.edge.interceptor import (
    Behavior,
    Context,
    StreamBehavior,
    UnaryInterceptor,
    reported,
    reported_stream,
)
from credvault.hostport import HostPort, parse_host_port

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Seconds: from a cached header lookup (~1 ms) to a slow provider near its timeout."""
_REASON = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


def _reason(value: str) -> str:
    return value if _REASON.fullmatch(value) else "OTHER"


class Metrics:
    """The service's metrics. Built once at start-up; its bound methods are the hooks the store and
    the service call."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        _build_info(self.registry)
        self._rpc = Histogram(
            "credvault_rpc_duration_seconds",
            "Time to serve a unary RPC, by service, method and status code.",
            ["service", "method", "code"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self._vault = Histogram(
            "credvault_vault_request_duration_seconds",
            "Time of one Vault call, by operation and outcome (ok or the error reason).",
            ["operation", "outcome"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self._verification_time = Histogram(
            "credvault_provider_verification_duration_seconds",
            "Time of a provider's verification (its test call), by provider.",
            ["provider"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self._serving = Gauge(
            "credvault_serving",
            "1 while the server reports SERVING (Vault reachable and unsealed), else 0.",
            registry=self.registry,
            multiprocess_mode="min",  # with workers: 1 only while every worker serves
        )
        self._streams = Counter(
            "credvault_rpc_streams",
            "Server-streaming RPCs ended, by service, method and status code.",
            ["service", "method", "code"],
            registry=self.registry,
        )
        self._open_streams = Gauge(
            "credvault_rpc_open_streams",
            "Server-streaming RPCs open now (event watchers), by service and method.",
            ["service", "method"],
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self._events = Counter(
            "credvault_events",
            "Connection events added to the event log, by type.",
            ["type"],
            registry=self.registry,
        )
        self._deliveries = Counter(
            "credvault_webhook_deliveries",
            "Webhook delivery attempts by outcome: ok, failed (will be retried), gave_up (retried for "
            "longer than CREDVAULT_WEBHOOK_RETRY_FOR).",
            ["outcome"],
            registry=self.registry,
        )
        self._undelivered = Gauge(
            "credvault_webhook_oldest_undelivered_seconds",
            "Age of the oldest event not yet delivered to every webhook URL (0: none), as seen by the "
            "replica delivering them.",
            registry=self.registry,
            multiprocess_mode="max",
        )
        self._verifications = Counter(
            "credvault_verifications",
            "Verification outcomes by provider, result (ok, rejected, error) and reason.",
            ["provider", "result", "reason"],
            registry=self.registry,
        )
        self._connect_sessions = Counter(
            "credvault_connect_sessions",
            "Connect sessions by event: created, completed, expired.",
            ["event"],
            registry=self.registry,
        )
        self._connect_submissions = Counter(
            "credvault_connect_submissions",
            "Connect page submissions by outcome: OK or the status code of the failure.",
            ["outcome"],
            registry=self.registry,
        )
        self._rechecks = Counter(
            "credvault_rechecks",
            "Scheduled re-checks by provider and result (ok, rejected, expired, paused, skipped).",
            ["provider", "result"],
            registry=self.registry,
        )

    def connect_session(self, event: str) -> None:
        self._connect_sessions.labels(event).inc()

    def connect_submission(self, outcome: str) -> None:
        self._connect_submissions.labels(_reason(outcome)).inc()

    @contextmanager
    def vault_call(self, operation: str) -> Iterator[None]:
        """Times one Vault call; wrap it around the code that translates Vault's errors to ours."""
        started = time.perf_counter()
        outcome = "error"
        try:
            yield
            outcome = "ok"
        except CredvaultError as error:
            outcome = _reason(error.reason)
            raise
        finally:
            self._vault.labels(operation, outcome).observe(time.perf_counter() - started)

    def serving(self, serving: bool) -> None:
        self._serving.set(1 if serving else 0)

    def verification(self, provider: str, result: str, reason: str, seconds: float) -> None:
        self._verification_time.labels(provider).observe(seconds)
        self._verifications.labels(provider, result, _reason(reason)).inc()

    def recheck(self, provider: str, result: str) -> None:
        self._rechecks.labels(provider, result).inc()

    def interceptor(self) -> UnaryInterceptor:
        return _RpcMetrics(self._rpc, self._streams, self._open_streams)

    def event(self, event_type: str) -> None:
        """Counts an event this replica added to the log (each is added exactly once)."""
        self._events.labels(event_type).inc()

    def delivery(self, outcome: str) -> None:
        self._deliveries.labels(outcome).inc()

    def undelivered_age(self, seconds: float) -> None:
        self._undelivered.set(seconds)

    def serve(self, listen: str) -> MetricsEndpoint:
        """Starts the HTTP endpoint for this process's metrics on `listen`."""
        return serve_registry(listen, self.registry)


def workers_registry(directory: str) -> CollectorRegistry:
    """The metrics of every worker process, summed: the workers write them to files in `directory`
    (prometheus-client's multiprocess mode, chosen by PROMETHEUS_MULTIPROC_DIR in their environment).
    Process collectors (`process_*`, `python_*`) are per process, so they are not served then."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    _build_info(registry)
    return registry


def serve_registry(listen: str, registry: CollectorRegistry) -> MetricsEndpoint:
    """Starts an HTTP endpoint serving `registry` at /metrics on `listen` (`host:port`, port 0 picks a
    free one)."""
    try:
        address = parse_host_port(listen)
    except ValueError:
        address = HostPort("", 0)
    if not address.host:
        raise ConfigError(f"CREDVAULT_METRICS_LISTEN must be host:port, not {listen!r}")
    try:
        server, _thread = start_http_server(address.port, address.host, registry=registry)
    except OSError as exc:
        raise ConfigError(
            f"cannot serve metrics on {listen} (CREDVAULT_METRICS_LISTEN): {exc.strerror}"
        ) from None
    return MetricsEndpoint(server, address)


def _build_info(registry: CollectorRegistry) -> None:
    Info("credvault_build", "The running credvault's version.", registry=registry).info(
        {"version": __version__}
    )


class MetricsEndpoint:
    """The running `/metrics` HTTP server (a daemon thread)."""

    def __init__(self, server: WSGIServer, address: HostPort) -> None:
        self._server = server
        self.url = f"http://{address.with_port(server.server_port)}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _RpcMetrics(UnaryInterceptor):
    """Times every unary RPC, and counts the streams open and ended. Register it outside the error
    interceptor, so it sees final codes."""

    def __init__(self, histogram: Histogram, streams: Counter, open_streams: Gauge) -> None:
        super().__init__()
        self._histogram = histogram
        self._streams = streams
        self._open = open_streams

    def wrap_stream(self, behavior: StreamBehavior, method: str) -> StreamBehavior:
        service, _, name = method.strip("/").rpartition("/")
        streams, open_streams = self._streams, self._open.labels(service, name)

        def ended(code: str, _seconds: float) -> None:
            open_streams.dec()
            streams.labels(service, name, code).inc()

        async def counted(request: Any, context: Context) -> AsyncIterator[Any]:
            open_streams.inc()
            async for message in reported_stream(behavior, request, context, ended):
                yield message

        return counted

    def wrap(self, behavior: Behavior, method: str) -> Behavior:
        service, _, name = method.strip("/").rpartition("/")
        histogram = self._histogram

        def observe(code: str, seconds: float) -> None:
            histogram.labels(service, name, code).observe(seconds)

        async def timed(request: Any, context: Context) -> Any:
            return await reported(behavior, request, context, observe)

        return timed
