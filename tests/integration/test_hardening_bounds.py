"""Hardening of the server's bounds (issue 14, items 9-12), through real `credvault serve` processes, real
OpenBao and real gRPC: a provider that trickles or floods, Retry-After values past reason (from a
provider and from Vault), caps on calls and connections, methods the access check does not know, and
URL overrides that are not for callers' eyes."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
import pytest
import requests
from conftest import server_env
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from support import CredvaultProcess, refusal

from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc as pb_grpc

TRICKLE, FLOOD, HUGE_RETRY = ("jca_" + digit * 32 for digit in "123")
TWENTY_DIGITS = "9" * 20


class Provider(ThreadingHTTPServer):
    """A JumpCloud stand-in that misbehaves by API key: trickles its answer a byte at a time, floods
    2 MiB, or asks for a pause of 20 digits of seconds."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProviderHandler)
        self.trickling = threading.Event()
        """Set once a trickling answer has begun."""
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api"


class _ProviderHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        key = self.headers.get("x-api-key", "")
        if key == HUGE_RETRY:
            self._head(429, 0, {"Retry-After": TWENTY_DIGITS})
            return
        size = 2 * 1024 * 1024 if key == FLOOD else 4096
        self._head(200, size, {"Content-Type": "application/json"})
        try:
            if key == FLOOD:
                self.wfile.write(b" " * size)
                return
            self.server.trickling.set()  # type: ignore[attr-defined]
            for _ in range(size):  # one byte every 0.1 s: every read is quick, the whole never ends
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            return  # credvault hung up

    def _head(self, status: int, length: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(length)}.items():
            self.send_header(name, value)
        self.end_headers()


@dataclass
class VaultProxy:
    """Forwards to the real OpenBao, or, while `faulty`, answers every request 429 with a Retry-After
    of 20 digits."""

    upstream: str
    faulty: bool = True
    server: ThreadingHTTPServer = field(init=False)

    def __post_init__(self) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy.faulty:
                    self._reply(429, {"Retry-After": TWENTY_DIGITS}, b"{}")
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = requests.request(
                    self.command, proxy.upstream + self.path, headers=headers, data=body, timeout=10
                )
                self._reply(answer.status_code, {"Content-Type": "application/json"}, answer.content)

            def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def do_LIST(self) -> None:
                self._serve()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    server = Provider()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def bounded(openbao, fakes, provider, tmp_path_factory) -> Iterator[CredvaultProcess]:
    urls = {**fakes.provider_urls(), "jumpcloud": provider.url}
    env = server_env(
        openbao,
        fakes,
        CREDVAULT_PROVIDER_URLS=json.dumps(urls),
        CREDVAULT_VERIFY_TIMEOUT="2",
        CREDVAULT_MAX_CONCURRENT_RPCS="3",
        CREDVAULT_CONNECTION_MAX_IDLE="1",
        CREDVAULT_CONNECTION_MAX_AGE="2",
    )
    process = CredvaultProcess(env, tmp_path_factory.mktemp("bounded")).start()
    yield process
    process.stop()


def create(address: str, key: str, wait: float = 30.0) -> grpc.RpcError | None:
    """CreateConnection with no deadline of the caller's; the test waits at most `wait` seconds."""
    with grpc.insecure_channel(address) as channel:
        future = pb_grpc.CredentialVaultStub(channel).CreateConnection.future(
            pb.CreateConnectionRequest(
                tenant_id="bounds", provider="jumpcloud", credentials={"api_key": key}, connection_id="jc"
            )
        )
        try:
            future.result(timeout=wait)
        except grpc.RpcError as error:
            return error
        except grpc.FutureTimeoutError:
            future.cancel()
            pytest.fail(f"no answer within {wait:.0f}s: the check is not bounded")
    return None


def test_a_trickling_provider_is_cut_off_at_the_verify_timeout(bounded):
    error = create(bounded.address, TRICKLE)
    assert error is not None
    assert (error.code(), refusal(error).reason) == (grpc.StatusCode.UNAVAILABLE, "PROVIDER_TIMEOUT")


def test_a_flooding_provider_is_read_to_one_mebibyte_only(bounded):
    error = create(bounded.address, FLOOD)
    assert error is not None
    found = refusal(error)
    assert (found.code, found.reason) == (grpc.StatusCode.UNAVAILABLE, "PROVIDER_RESPONSE_TOO_LARGE")


def test_a_providers_endless_retry_after_is_clamped_to_an_hour(bounded):
    error = create(bounded.address, HUGE_RETRY)
    assert error is not None
    found = refusal(error)
    assert found.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert found.details["RetryInfo"].retry_delay.seconds == 3600


def test_vaults_endless_retry_after_is_clamped_and_the_server_recovers(openbao, fakes, tmp_path):
    proxy = VaultProxy(openbao.addr)
    env = server_env(openbao, fakes, VAULT_ADDR=proxy.url)
    process = CredvaultProcess(env, tmp_path).start()  # starts NOT_SERVING: Vault asks for a pause
    try:
        with grpc.insecure_channel(process.address) as channel:
            stub = pb_grpc.CredentialVaultStub(channel)
            with pytest.raises(grpc.RpcError) as error:
                stub.GetConnection(pb.GetConnectionRequest(tenant_id="t", connection_id="c"), timeout=5)
            found = refusal(error.value)
            assert found.code == grpc.StatusCode.UNAVAILABLE
            assert 0 < found.details["RetryInfo"].retry_delay.seconds <= 3600
            # The background loops (health, token renewal) lived through it: Vault back, SERVING again.
            proxy.faulty = False
            health = health_pb2_grpc.HealthStub(channel)
            deadline = time.monotonic() + 60
            while health.Check(health_pb2.HealthCheckRequest(), timeout=5).status != 1:
                assert time.monotonic() < deadline, process.logs()[-2000:]
                time.sleep(0.2)
    finally:
        process.stop()
        proxy.server.shutdown()
        proxy.server.server_close()


def test_concurrent_calls_are_capped(bounded):
    """Three reflection streams held open fill the cap of 3: the next call is refused at once."""
    release = threading.Event()

    def requests_until_released() -> Iterator[reflection_pb2.ServerReflectionRequest]:
        yield reflection_pb2.ServerReflectionRequest(list_services="")
        release.wait(30)

    with grpc.insecure_channel(bounded.address) as channel:
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        streams = [reflection.ServerReflectionInfo(requests_until_released(), timeout=30) for _ in range(3)]
        for stream in streams:
            next(stream)  # each stream is open and answered
        try:
            with pytest.raises(grpc.RpcError) as refused:
                pb_grpc.CredentialVaultStub(channel).ListProviders(pb.ListProvidersRequest(), timeout=5)
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        finally:
            release.set()
        for stream in streams:
            list(stream)
        assert pb_grpc.CredentialVaultStub(channel).ListProviders(pb.ListProvidersRequest(), timeout=5)


def test_calls_on_one_connection_are_capped(openbao, fakes, provider, tmp_path):
    """With one stream per connection, a second call on the same connection waits for the first."""
    urls = {**fakes.provider_urls(), "jumpcloud": provider.url}
    env = server_env(
        openbao,
        fakes,
        CREDVAULT_PROVIDER_URLS=json.dumps(urls),
        CREDVAULT_VERIFY_TIMEOUT="3",
        CREDVAULT_MAX_STREAMS_PER_CONNECTION="1",
    )
    process = CredvaultProcess(env, tmp_path).start()
    try:
        with grpc.insecure_channel(process.address) as channel:
            stub = pb_grpc.CredentialVaultStub(channel)
            stub.ListProviders(pb.ListProvidersRequest(), timeout=5)  # connected
            provider.trickling.clear()
            request = pb.CreateConnectionRequest(
                tenant_id="bounds", provider="jumpcloud", credentials={"api_key": TRICKLE}, connection_id="s"
            )
            slow = stub.CreateConnection.future(request, timeout=30)
            assert provider.trickling.wait(10)
            with pytest.raises(grpc.RpcError) as waited:
                stub.ListProviders(pb.ListProvidersRequest(), timeout=0.5)
            assert waited.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            assert not slow.done()
            with pytest.raises(grpc.RpcError):
                slow.result()
            assert stub.ListProviders(pb.ListProvidersRequest(), timeout=5).providers
    finally:
        process.stop()


def test_idle_connections_are_closed(bounded):
    states: list[grpc.ChannelConnectivity] = []
    with grpc.insecure_channel(bounded.address) as channel:
        pb_grpc.CredentialVaultStub(channel).ListProviders(pb.ListProvidersRequest(), timeout=5)
        channel.subscribe(states.append, try_to_connect=False)
        try:
            deadline = time.monotonic() + 30
            while grpc.ChannelConnectivity.IDLE not in states[1:]:
                assert time.monotonic() < deadline, f"the idle connection stayed open: {states}"
                time.sleep(0.1)
        finally:
            channel.unsubscribe(states.append)


def test_busy_connections_are_replaced_at_their_maximum_age(bounded):
    """A connection in constant use is still told to go away at its age; the client reconnects and no
    call fails."""
    states: list[grpc.ChannelConnectivity] = []
    with grpc.insecure_channel(bounded.address) as channel:
        stub = pb_grpc.CredentialVaultStub(channel)
        stub.ListProviders(pb.ListProvidersRequest(), timeout=5)
        channel.subscribe(states.append, try_to_connect=False)
        try:
            deadline = time.monotonic() + 30
            while states.count(grpc.ChannelConnectivity.READY) < 2:  # ready, gone away, ready again
                assert time.monotonic() < deadline, f"the connection outlived its maximum age: {states}"
                assert stub.ListProviders(pb.ListProvidersRequest(), timeout=5).providers
                time.sleep(0.05)
        finally:
            channel.unsubscribe(states.append)


def test_list_providers_shows_callers_the_public_template_only(bounded, provider):
    with grpc.insecure_channel(bounded.address) as channel:
        answer = pb_grpc.CredentialVaultStub(channel).ListProviders(pb.ListProvidersRequest(), timeout=5)
    templates = {p.id: p.base_url_template for p in answer.providers}
    assert templates["jumpcloud"] == "https://{console}/api"
    assert not any("127.0.0.1" in template for template in templates.values())


def test_url_overrides_with_user_and_password_stop_start_up(openbao, fakes, tmp_path):
    urls = {"jumpcloud": "https://proxy-user:proxy-pass@egress.internal/jumpcloud"}
    result = subprocess.run(
        [sys.executable, "-m", "credvault", "serve"],
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            **server_env(openbao, fakes, CREDVAULT_PROVIDER_URLS=json.dumps(urls)),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "user:password@host" in result.stderr
    assert "proxy-pass" not in result.stderr + result.stdout


def test_credvault_methods_the_access_check_cannot_guard_are_refused():
    """A real grpc.aio server with credvault's access interceptor and two handlers it can't guard: a
    server stream that writes through its context (not an async generator), and a method the
    contract does not hold. Both are refused for every caller, even with caller authentication off."""
    from credvault.edge.auth import SERVICE_PREFIX, AccessInterceptor

    served: list[str] = []

    async def watch(request: bytes, context: Any) -> None:
        served.append("watch")
        await context.write(b"an event")

    async def unknown(request: bytes, context: Any) -> bytes:
        served.append("unknown")
        return b"secret"

    handlers = {
        "WatchConnectionEvents": grpc.unary_stream_rpc_method_handler(watch),
        "ExportEverything": grpc.unary_unary_rpc_method_handler(unknown),
    }

    async def run() -> list[grpc.StatusCode]:
        server = grpc.aio.server(interceptors=[AccessInterceptor(None)])
        server.add_generic_rpc_handlers(
            [grpc.method_handlers_generic_handler(SERVICE_PREFIX.strip("/"), handlers)]
        )
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        codes = []
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                calls = [
                    channel.unary_stream(f"{SERVICE_PREFIX}WatchConnectionEvents")(b"", timeout=5),
                    channel.unary_unary(f"{SERVICE_PREFIX}ExportEverything")(b"", timeout=5),
                ]
                for call in calls:
                    try:
                        if hasattr(call, "__aiter__"):
                            [message async for message in call]
                        else:
                            await call
                        codes.append(grpc.StatusCode.OK)
                    except grpc.aio.AioRpcError as error:
                        codes.append(error.code())
        finally:
            await server.stop(None)
        return codes

    import asyncio

    assert asyncio.run(run()) == [grpc.StatusCode.PERMISSION_DENIED] * 2
    assert served == []


def test_watch_connection_events_is_checked_like_any_method(openbao, fakes, tmp_path):
    import hashlib

    token = "a-token-of-a-caller-without-the-watch"
    policy = tmp_path / "policy.json"
    policy.write_text(
        json.dumps(
            {
                "callers": {
                    "worker": {
                        "tokens_sha256": [hashlib.sha256(token.encode()).hexdigest()],
                        "tenants": ["*"],
                        "methods": ["GetAuthHeaders"],
                    }
                }
            }
        )
    )
    process = CredvaultProcess(
        server_env(openbao, fakes, CREDVAULT_ACCESS_POLICY=str(policy)), tmp_path / "run"
    ).start()
    try:
        with grpc.insecure_channel(process.address) as channel:
            stub = pb_grpc.CredentialVaultStub(channel)
            request = pb.WatchConnectionEventsRequest(tenant_id="acme")
            for metadata, code in [
                ((), grpc.StatusCode.UNAUTHENTICATED),
                ((("authorization", f"Bearer {token}"),), grpc.StatusCode.PERMISSION_DENIED),
            ]:
                with pytest.raises(grpc.RpcError) as refused:
                    list(stub.WatchConnectionEvents(request, timeout=5, metadata=metadata))
                assert refused.value.code() == code
    finally:
        process.stop()
