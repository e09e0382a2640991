"""What operators see: Prometheus metrics on their own port, JSON logs with a request id per RPC and
one access line per call, and never a tenant, connection id or secret in the metrics or a secret in
the logs (at DEBUG)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from conftest import server_env
from fakes.base import Response
from support import CredvaultProcess, Samples, rich_details, scrape

import credvault
from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc

SERVICE = "credvault.v1.CredentialVault"


@pytest.fixture(scope="module")
def observed(openbao, fakes, tmp_path_factory) -> Iterator[CredvaultProcess]:
    """A server with metrics on a free port, logging at DEBUG."""
    env = server_env(
        openbao,
        fakes,
        CREDVAULT_METRICS_LISTEN="127.0.0.1:0",
        CREDVAULT_LOG_LEVEL="DEBUG",
        CREDVAULT_VERIFY_TIMEOUT="1",
    )
    process = CredvaultProcess(env, tmp_path_factory.mktemp("observed")).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def ostub(observed) -> Iterator[credvault_pb2_grpc.CredentialVaultStub]:
    with grpc.insecure_channel(observed.address) as channel:
        yield credvault_pb2_grpc.CredentialVaultStub(channel)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


def lifecycle(stub: Any, tenant: str, key: str, **call: Any) -> None:
    """Create, get headers, verify, delete: every RPC that touches the secret."""
    ids = {"tenant_id": tenant, "connection_id": "jc"}
    stub.CreateConnection(
        pb.CreateConnectionRequest(**ids, provider="jumpcloud", credentials={"api_key": key}), **call
    )
    assert stub.GetAuthHeaders(pb.GetAuthHeadersRequest(**ids), **call).headers["x-api-key"] == key
    stub.VerifyConnection(pb.VerifyConnectionRequest(**ids), **call)
    stub.DeleteConnection(pb.DeleteConnectionRequest(**ids), **call)


def log_lines(process: CredvaultProcess) -> list[dict[str, Any]]:
    return [json.loads(line) for line in process.logs().splitlines() if line.startswith("{")]


def test_metrics_count_rpcs_vault_calls_and_verifications(observed, ostub, tenant, key):
    _, before = scrape(observed)
    lifecycle(ostub, tenant, key, timeout=10)
    rejected_key = f"jca_{uuid.uuid4().hex}"
    with pytest.raises(grpc.RpcError) as rejected:
        ostub.CreateConnection(
            pb.CreateConnectionRequest(
                tenant_id=tenant,
                connection_id="bad",
                provider="jumpcloud",
                credentials={"api_key": rejected_key},
            ),
            timeout=10,
        )
    assert rejected.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.RpcError) as missing:
        ostub.GetConnection(pb.GetConnectionRequest(tenant_id=tenant, connection_id="jc"), timeout=5)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    text, after = scrape(observed)

    rpcs = "credvault_rpc_duration_seconds_count"
    for method, code, count in [
        ("CreateConnection", "OK", 1),
        ("CreateConnection", "FAILED_PRECONDITION", 1),
        ("GetAuthHeaders", "OK", 1),
        ("VerifyConnection", "OK", 1),
        ("DeleteConnection", "OK", 1),
        ("GetConnection", "NOT_FOUND", 1),
    ]:
        assert delta(before, after, rpcs, service=SERVICE, method=method, code=code) == count, (method, code)
    vault = "credvault_vault_request_duration_seconds_count"
    assert delta(before, after, vault, operation="create", outcome="ok") == 1
    assert delta(before, after, vault, operation="replace", outcome="ok") == 1  # the verify's record
    assert delta(before, after, vault, operation="read", outcome="CONNECTION_NOT_FOUND") == 1
    assert delta(before, after, vault, operation="delete", outcome="ok") == 1
    assert after[(vault, frozenset({"operation": "login", "outcome": "ok"}.items()))] >= 1
    verifications = "credvault_verifications_total"
    ok = {"provider": "jumpcloud", "result": "ok", "reason": "VERIFIED"}
    assert delta(before, after, verifications, **ok) == 2  # create and verify
    no = {
        "provider": "jumpcloud",
        "result": "rejected",
        "reason": rich_details(rejected.value)["ErrorInfo"].reason,
    }
    assert delta(before, after, verifications, **no) == 1
    timing = "credvault_provider_verification_duration_seconds_count"
    assert delta(before, after, timing, provider="jumpcloud") == 3
    assert "process_resident_memory_bytes" in text
    assert after[("credvault_serving", frozenset())] == 1
    assert after[("credvault_build_info", frozenset({"version": credvault.__version__}.items()))] == 1

    for private in (tenant, '"jc"', '"bad"', key, rejected_key):
        assert private not in text


def test_request_id_from_the_caller_is_returned_and_on_every_log_line(observed, ostub, tenant, key):
    request_id = f"ops-{uuid.uuid4().hex}"
    _, call = ostub.CreateConnection.with_call(
        pb.CreateConnectionRequest(
            tenant_id=tenant, connection_id="jc", provider="jumpcloud", credentials={"api_key": key}
        ),
        metadata=[("x-request-id", request_id)],
        timeout=10,
    )
    assert ("x-request-id", request_id) in call.trailing_metadata()

    lines = [line for line in log_lines(observed) if line.get("request_id") == request_id]
    access = [line for line in lines if line["logger"] == "credvault.access"]
    assert len(access) == 1
    assert access[0]["method"] == f"/{SERVICE}/CreateConnection"
    assert access[0]["code"] == "OK" and access[0]["duration_ms"] > 0
    assert access[0]["user_agent"].startswith("grpc-python/")
    assert any(line["message"] == "created connection" for line in lines)


def test_errors_carry_the_request_id_and_keep_their_details(ostub, tenant):
    request_id = f"ops-{uuid.uuid4().hex}"
    with pytest.raises(grpc.RpcError) as missing:
        ostub.GetConnection(
            pb.GetConnectionRequest(tenant_id=tenant, connection_id="nope"),
            metadata=[("x-request-id", request_id)],
            timeout=5,
        )
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    assert ("x-request-id", request_id) in missing.value.trailing_metadata()
    assert rich_details(missing.value)["ErrorInfo"].reason == "CONNECTION_NOT_FOUND"


@pytest.mark.parametrize("given", [None, "two words", "x" * 200, "semi;colon"])
def test_a_missing_or_malformed_request_id_is_replaced(ostub, given):
    metadata = [("x-request-id", given)] if given else []
    _, call = ostub.ListProviders.with_call(pb.ListProvidersRequest(), metadata=metadata, timeout=5)
    returned = dict(call.trailing_metadata())["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", returned)


def test_no_secret_in_the_logs_at_debug(observed, ostub, tenant, key):
    assert observed.env["CREDVAULT_LOG_LEVEL"] == "DEBUG"
    lifecycle(ostub, tenant, key, timeout=10)
    logs = observed.logs()
    assert f"/{SERVICE}/DeleteConnection" in logs  # the calls were logged...
    assert key not in logs  # ...without the key


def test_a_check_that_could_not_be_made_counts_as_an_error(observed, ostub, fakes, tenant):
    """The provider hangs past CREDVAULT_VERIFY_TIMEOUT (1 s here), well within the caller's deadline."""
    slow_key = f"jca_{uuid.uuid4().hex}"
    fakes.jumpcloud.override(slow_key, Response(200, {"results": []}, delay=3))
    _, before = scrape(observed)
    with pytest.raises(grpc.RpcError) as failed:
        ostub.CreateConnection(
            pb.CreateConnectionRequest(
                tenant_id=tenant, provider="jumpcloud", credentials={"api_key": slow_key}
            ),
            timeout=20,
        )
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
    text, after = scrape(observed)
    error = {"provider": "jumpcloud", "result": "error", "reason": "PROVIDER_TIMEOUT"}
    assert delta(before, after, "credvault_verifications_total", **error) == 1
    assert (
        delta(
            before,
            after,
            "credvault_rpc_duration_seconds_count",
            **{"service": SERVICE, "method": "CreateConnection", "code": "UNAVAILABLE"},
        )
        == 1
    )
    assert slow_key not in text


@pytest.mark.parametrize("problem", ["not host:port", "port in use"])
def test_a_bad_metrics_address_stops_the_start_with_its_name(openbao, fakes, problem):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = "nonsense" if problem == "not host:port" else f"127.0.0.1:{taken.getsockname()[1]}"
        env = {**os.environ, **server_env(openbao, fakes, CREDVAULT_METRICS_LISTEN=listen)}
        result = subprocess.run(
            [sys.executable, "-m", "credvault", "serve"], env=env, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 2
    assert "CREDVAULT_METRICS_LISTEN" in result.stderr
