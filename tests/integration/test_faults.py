"""Faults of Vault and of credvault's own process: Vault stopped, hung or sealed under load, start-up
while Vault is down, refused credentials, SIGTERM with calls in flight, and `kill -9` of the embedded
default during a create storm."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from cluster import BaoCluster
from fakes.base import Response
from grpc_health.v1 import health_pb2, health_pb2_grpc
from support import CredvaultProcess, rich_details

from credvault.polling import poll_until
from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaoCluster]:
    """A one-node Raft OpenBao this module may stop, hang, seal and start again with its data."""
    with BaoCluster(tmp_path_factory.mktemp("bao"), size=1) as started:
        yield started


@pytest.fixture
def env(vault, fakes) -> dict[str, str]:
    return vault.credvault_env(fakes.provider_urls(), CREDVAULT_VERIFY_TIMEOUT="3")


@pytest.fixture
def running(env, tmp_path) -> Iterator[CredvaultProcess]:
    process = CredvaultProcess(env, tmp_path / "credvault").start()
    yield process
    process.stop()


def stubs(address: str) -> tuple[credvault_pb2_grpc.CredentialVaultStub, health_pb2_grpc.HealthStub]:
    channel = grpc.insecure_channel(address)
    return credvault_pb2_grpc.CredentialVaultStub(channel), health_pb2_grpc.HealthStub(channel)


def wait_health(health: health_pb2_grpc.HealthStub, status: int, timeout: float = 60) -> None:
    seen: list[object] = [None]

    def reached() -> bool:
        try:
            seen[0] = health.Check(health_pb2.HealthCheckRequest(), timeout=2).status
        except grpc.RpcError as error:
            seen[0] = error.code()
        return seen[0] == status

    assert poll_until(reached, timeout, interval=0.2), f"health stayed {seen[0]}, expected {status}"


def create_request(tenant: str, connection_id: str, key: str) -> pb.CreateConnectionRequest:
    return pb.CreateConnectionRequest(
        tenant_id=tenant, connection_id=connection_id, provider="jumpcloud", credentials={"api_key": key}
    )


def mixed_load(stub, tenant: str, key: str, calls: int = 40) -> list[grpc.RpcError | None]:
    """`calls` mixed calls from 8 threads, each with a 2 s deadline; what each one raised."""

    def one(index: int) -> grpc.RpcError | None:
        requests = [
            lambda: stub.GetAuthHeaders(
                pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="c0"), timeout=2
            ),
            lambda: stub.CreateConnection(create_request(tenant, f"n{index}", key), timeout=2),
            lambda: stub.GetConnection(
                pb.GetConnectionRequest(tenant_id=tenant, connection_id="c0"), timeout=2
            ),
            lambda: stub.ListConnections(pb.ListConnectionsRequest(tenant_id=tenant), timeout=2),
        ]
        try:
            requests[index % len(requests)]()
        except grpc.RpcError as error:
            return error
        return None

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(calls)))


def reasons(errors: list[grpc.RpcError | None]) -> Counter[str]:
    """Counts each call's `CODE REASON` (or `OK`). A status without ErrorInfo, such as gRPC's own
    DEADLINE_EXCEEDED, counts as `CODE -`, so a failed assertion shows what came back, not a KeyError."""

    def reason(error: grpc.RpcError) -> str:
        info = rich_details(error).get("ErrorInfo")
        return info.reason if info is not None else "-"

    return Counter(f"{e.code().name} {reason(e)}" if e is not None else "OK" for e in errors)


def test_health_is_serving_from_the_first_call_when_vault_is_up(env, tmp_path):
    """A readiness probe sent the moment the server says it listens sees SERVING, for the server as a
    whole and for the service by name; it does not wait for the first background check of Vault."""
    process = CredvaultProcess(env, tmp_path / "credvault").start()
    try:
        _, health = stubs(process.address)
        for service in ("", "credvault.v1.CredentialVault"):
            answer = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert answer.status == SERVING, service
    finally:
        process.stop()


@pytest.mark.parametrize("fault", ["stopped", "hung"])
def test_vault_outage_answers_unavailable_and_recovers(vault, running, tenant, key, fault):
    stub, health = stubs(running.address)
    stub.CreateConnection(create_request(tenant, "c0", key), timeout=10)
    wait_health(health, SERVING)
    node = vault.nodes[0]
    node.stop(signal.SIGTERM if fault == "stopped" else signal.SIGSTOP)
    try:
        seen = reasons(mixed_load(stub, tenant, key))
        # Every call answered inside its deadline (no DEADLINE_EXCEEDED), as UNAVAILABLE saying why.
        expected = "VAULT_UNREACHABLE" if fault == "stopped" else "VAULT_TIMEOUT"
        assert seen == {f"UNAVAILABLE {expected}": 40}, seen
        wait_health(health, NOT_SERVING)
    finally:
        if fault == "stopped":
            node.start()
        else:
            node.send(signal.SIGCONT)
    wait_health(health, SERVING)
    headers = stub.GetAuthHeaders(pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="c0"), timeout=5)
    assert headers.headers["x-api-key"] == key
    assert "Traceback" not in running.logs()


def test_sealed_vault_is_reported_as_sealed(vault, running, tenant, key):
    stub, health = stubs(running.address)
    stub.CreateConnection(create_request(tenant, "c0", key), timeout=10)
    node = vault.nodes[0]
    vault.client(node).sys.seal()
    try:
        with pytest.raises(grpc.RpcError) as sealed:
            stub.GetAuthHeaders(pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="c0"), timeout=2)
        assert sealed.value.code() == grpc.StatusCode.UNAVAILABLE
        assert rich_details(sealed.value)["ErrorInfo"].reason == "VAULT_SEALED"
        assert "sealed" in sealed.value.details()
        wait_health(health, NOT_SERVING)
    finally:
        node.stop()
        node.start()  # the static seal unseals it at start
    wait_health(health, SERVING)
    stub.GetConnection(pb.GetConnectionRequest(tenant_id=tenant, connection_id="c0"), timeout=5)


def test_start_while_vault_is_down_serves_once_it_is_back(vault, env, tmp_path, tenant, key):
    node = vault.nodes[0]
    node.stop()
    try:
        process = CredvaultProcess(env, tmp_path / "credvault").start()
    finally:
        node.start()
    try:
        stub, health = stubs(process.address)
        wait_health(health, SERVING)
        created = stub.CreateConnection(create_request(tenant, "late", key), timeout=10)
        assert created.status == pb.CONNECTION_STATUS_ACTIVE
        assert "serving NOT_SERVING until it is" in process.logs()
    finally:
        process.stop()


def test_refused_credentials_stop_start_up(env, tmp_path):
    env = {**env, "VAULT_SECRET_ID": str(uuid.uuid4())}
    with pytest.raises(RuntimeError, match="exited with 2"):
        CredvaultProcess(env, tmp_path / "credvault").start()
    assert "VAULT_SECRET_ID" in (tmp_path / "credvault" / "stderr.log").read_text()


def test_sigterm_drains_calls_in_flight(running, fakes, tenant, key):
    slow = f"jca_{uuid.uuid4().hex}"
    fakes.jumpcloud.override(slow, Response(200, {"totalCount": 1, "results": []}, delay=2))
    stub, _ = stubs(running.address)
    future = stub.CreateConnection.future(create_request(tenant, "slow", slow), timeout=15)
    assert poll_until(lambda: reached_provider(fakes, slow), 10, interval=0.02), (
        "the call never reached the provider"
    )
    # The call is now waiting on the provider.
    running.process.send_signal(signal.SIGTERM)
    assert future.result().connection_id == "slow"
    running.process.wait(
        timeout=30
    )  # it exits by itself: a second SIGTERM, once its handler is gone, kills it
    assert running.stop() == 0


@pytest.fixture
def embedded(tmp_path, fakes) -> Iterator[CredvaultProcess]:
    env = {
        "CREDVAULT_DATA_DIR": str(tmp_path / "data"),
        "CREDVAULT_LISTEN": "127.0.0.1:0",
        "CREDVAULT_PROVIDER_URLS": json.dumps(fakes.provider_urls()),
        "VAULT_ADDR": "",
    }
    process = CredvaultProcess(env, tmp_path / "run").start()
    yield process
    process.stop()


def test_kill9_of_embedded_loses_no_acknowledged_create_and_leaves_no_orphan(embedded, tenant, key):
    config = str(Path(embedded.env["CREDVAULT_DATA_DIR"]) / "openbao.hcl")
    assert _processes_using(config)
    stub, _ = stubs(embedded.address)
    acknowledged: list[str] = []
    stop = threading.Event()

    def storm(worker: int) -> None:
        for index in range(10**6):
            if stop.is_set():
                return
            try:
                stub.CreateConnection(create_request(tenant, f"s{worker}-{index}", key), timeout=5)
            except grpc.RpcError:
                if stop.is_set():
                    return
                continue
            acknowledged.append(f"s{worker}-{index}")

    with ThreadPoolExecutor(6) as pool:
        workers = [pool.submit(storm, n) for n in range(6)]
        time.sleep(2)
        embedded.stop(signal.SIGKILL)
        stop.set()
        for worker in workers:
            worker.result()
    assert acknowledged

    assert poll_until(lambda: not _processes_using(config), 30), "the embedded OpenBao outlived credvault"

    embedded.start()
    stub, _ = stubs(embedded.address)
    missing = [
        cid
        for cid in acknowledged
        if _code(
            lambda c=cid: stub.GetConnection(
                pb.GetConnectionRequest(tenant_id=tenant, connection_id=c), timeout=10
            )
        )
        != grpc.StatusCode.OK
    ]
    assert missing == [], f"{len(missing)} of {len(acknowledged)} acknowledged creates lost"


def _code(call) -> grpc.StatusCode:
    try:
        call()
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK


def reached_provider(fakes, key: str) -> bool:
    """Whether a check with `key` has reached the JumpCloud fake (so it holds a verification slot)."""
    return any(r.headers.get("x-api-key") == key for r in fakes.jumpcloud.requests)


def _processes_using(config: str) -> str:
    return subprocess.run(["pgrep", "-f", config], capture_output=True, text=True).stdout


def test_verifications_are_bounded_and_a_hanging_provider_blocks_nothing_else(
    env, tmp_path, fakes, tenant, key
):
    process = CredvaultProcess({**env, "CREDVAULT_MAX_VERIFICATIONS": "1"}, tmp_path / "credvault").start()
    try:
        stub, _ = stubs(process.address)
        stub.CreateConnection(create_request(tenant, "c0", key), timeout=10)
        hanging = f"jca_{uuid.uuid4().hex}"
        fakes.jumpcloud.override(hanging, Response(200, {"totalCount": 0, "results": []}, delay=60))
        stuck = stub.CreateConnection.future(create_request(tenant, "stuck", hanging), timeout=30)
        # At the provider, so past the bound: the one verification slot is taken.
        assert poll_until(lambda: reached_provider(fakes, hanging), 10, interval=0.02)
        with pytest.raises(grpc.RpcError) as busy:
            stub.CreateConnection(create_request(tenant, "next", key), timeout=2)
        assert busy.value.code() == grpc.StatusCode.UNAVAILABLE
        details = rich_details(busy.value)
        assert details["ErrorInfo"].reason == "VERIFICATIONS_BUSY" and "RetryInfo" in details
        headers = stub.GetAuthHeaders(
            pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="c0"), timeout=2
        )
        assert headers.headers["x-api-key"] == key
        with pytest.raises(grpc.RpcError) as timed_out:
            stuck.result()  # the provider call has its own timeout (CREDVAULT_VERIFY_TIMEOUT=3)
        assert rich_details(timed_out.value)["ErrorInfo"].reason == "PROVIDER_TIMEOUT"
    finally:
        process.stop()
