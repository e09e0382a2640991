"""Hardening of the embedded OpenBao and of the server process (issue 14, items 5-8), through real
`credvault serve` processes and the real OpenBao they start: the unseal key apart from the data, an
AppRole that works from loopback only, no root token on disk even after a kill half-way through set-up,
a port OpenBao binds itself, an empty environment for OpenBao, no core dumps, secrets from files."""

from __future__ import annotations

import http.client
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import grpc
import pytest
from conftest import ROOT_TOKEN, server_env
from support import ORG, CredvaultProcess, unavailable

from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc as pb_grpc

EMBEDDED_AT = re.compile(r"Vault: embedded OpenBao at http://127\.0\.0\.1:(\d+)")
ROOT_TOKEN_SHAPE = re.compile(rb"\bs\.[A-Za-z0-9]{24}\b")
"""What an OpenBao service token looks like (the root token made at initialisation is one)."""
LEAKY_ENV = {
    "VAULT_TOKEN": "s.credvaults-own-token-000",
    "VAULT_SECRET_ID": "credvaults-own-secret-id",
    "BAO_ADDR": "http://127.0.0.1:1",
    "BAO_TOKEN": "s.a-bao-cli-token-0000000",
}


def embedded_env(base: Path, fakes, **extra: str) -> dict[str, str]:
    return {
        "CREDVAULT_DATA_DIR": str(base / "data"),
        "CREDVAULT_LISTEN": "127.0.0.1:0",
        "CREDVAULT_PROVIDER_URLS": json.dumps(fakes.provider_urls()),
        "VAULT_ADDR": "",
        **extra,
    }


@pytest.fixture(scope="module")
def embedded(tmp_path_factory, fakes) -> Iterator[CredvaultProcess]:
    """credvault on its embedded default, started with credentials of its own in its environment."""
    base = tmp_path_factory.mktemp("embedded")
    process = CredvaultProcess(embedded_env(base, fakes, **LEAKY_ENV), base / "run").start()
    yield process
    process.stop()


def openbao_port(process: CredvaultProcess) -> int:
    return int(EMBEDDED_AT.findall(process.stdout())[-1])


def openbao_pid(process: CredvaultProcess) -> int:
    assert process.process is not None
    pid = process.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def create_and_read(address: str, fakes) -> None:
    key = f"jca_{uuid.uuid4().hex}"
    fakes.jumpcloud.add_key(key, orgs=[ORG])
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    with grpc.insecure_channel(address) as channel:
        stub = pb_grpc.CredentialVaultStub(channel)
        stub.CreateConnection(
            pb.CreateConnectionRequest(
                tenant_id=tenant, connection_id="jc", provider="jumpcloud", credentials={"api_key": key}
            ),
            timeout=15,
        )
        answer = stub.GetAuthHeaders(
            pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="jc"), timeout=5
        )
    assert answer.headers["x-api-key"] == key


def files_under(*roots: Path) -> Iterator[Path]:
    for root in roots:
        if root.is_file():
            yield root
        elif root.is_dir():
            yield from (p for p in root.rglob("*") if p.is_file())


def test_the_unseal_key_is_kept_apart_from_the_data_directory(embedded, fakes, tmp_path):
    data = Path(embedded.env["CREDVAULT_DATA_DIR"])
    key_file = data.with_name("data.unseal-key")
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text().strip()
    assert len(key) == 64
    assert not any(key.encode() in path.read_bytes() for path in files_under(data))

    # A copy of the data directory alone opens nothing.
    copy = tmp_path / "copy"
    shutil.copytree(data, copy / "data", ignore=shutil.ignore_patterns("lock"))
    result = subprocess.run(
        [sys.executable, "-m", "credvault", "serve"],
        env={**os.environ, **embedded_env(copy, fakes)},
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 2
    assert "unseal key is not at" in result.stderr and "CREDVAULT_UNSEAL_KEY_FILE" in result.stderr


def test_a_data_directory_of_an_earlier_version_moves_its_key_out(fakes, tmp_path):
    env = embedded_env(tmp_path, fakes, CREDVAULT_UNSEAL_KEY_FILE=str(tmp_path / "keys" / "unseal.key"))
    process = CredvaultProcess(env, tmp_path / "run").start()
    create_and_read(process.address, fakes)
    assert process.stop() == 0
    # What an earlier version left: the key in keys.json, an AppRole without an address binding.
    data, key_file = tmp_path / "data", tmp_path / "keys" / "unseal.key"
    (data / "keys.json").write_text(json.dumps({"unseal_key": key_file.read_text().strip()}))
    key_file.unlink()
    approle = json.loads((data / "approle.json").read_text())
    (data / "approle.json").write_text(json.dumps({k: approle[k] for k in ("role_id", "secret_id")}))

    process.start()
    create_and_read(process.address, fakes)
    assert not (data / "keys.json").exists()
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert "moved the embedded OpenBao's unseal key out of the data directory" in process.logs()
    assert "is not bound to loopback" in process.logs()
    assert process.stop() == 0


def from_address(source: str, port: int, method: str, path: str, **kwargs) -> tuple[int, dict]:
    """An HTTP request to OpenBao sent from local address `source`."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    with closing(connection):
        connection.request(method, path, **kwargs)
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read() or b"{}")


def approle_login(port: int, source: str, role_id: str, secret_id: str) -> tuple[int, dict]:
    body = json.dumps({"role_id": role_id, "secret_id": secret_id})
    return from_address(source, port, "POST", "/v1/auth/approle/login", body=body)


def lookup_self(port: int, source: str, token: str) -> int:
    headers = {"X-Vault-Token": token}
    return from_address(source, port, "GET", "/v1/auth/token/lookup-self", headers=headers)[0]


def test_the_approle_works_from_loopback_only(embedded):
    approle = json.loads((Path(embedded.env["CREDVAULT_DATA_DIR"]) / "approle.json").read_text())
    port = openbao_port(embedded)
    # 127.0.0.2 is another address of this machine, standing in for any address but 127.0.0.1.
    status, _ = approle_login(port, "127.0.0.2", approle["role_id"], approle["secret_id"])
    assert status in (400, 403)
    status, answer = approle_login(port, "127.0.0.1", approle["role_id"], approle["secret_id"])
    assert status == 200
    token = answer["auth"]["client_token"]
    assert lookup_self(port, "127.0.0.1", token) == 200
    assert lookup_self(port, "127.0.0.2", token) == 403


def test_openbao_binds_its_own_port_and_gets_an_empty_environment(embedded):
    config = (Path(embedded.env["CREDVAULT_DATA_DIR"]) / "openbao.hcl").read_text()
    # No port chosen by credvault and released for OpenBao to bind: OpenBao binds port 0 itself.
    assert re.findall(r'address\s*=\s*"([^"]+)"', config) == ["127.0.0.1:0", "127.0.0.1:0"]
    pid = openbao_pid(embedded)
    port = openbao_port(embedded)
    inodes = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    listening = [line.split() for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]]
    own = {int(f[1].split(":")[1], 16) for f in listening if f[3] == "0A" and f"socket:[{f[9]}]" in inodes}
    assert port in own, "credvault talks to a port its OpenBao does not hold"
    environ = Path(f"/proc/{pid}/environ").read_bytes()
    assert environ == b"", environ.split(b"\0")


def test_no_root_token_on_disk_when_set_up_is_killed_half_way(fakes, tmp_path):
    key_file = tmp_path / "unseal.key"
    env = embedded_env(tmp_path, fakes, CREDVAULT_UNSEAL_KEY_FILE=str(key_file))
    run = tmp_path / "run"
    run.mkdir()
    with open(run / "first.log", "wb") as log:
        first = subprocess.Popen(
            [sys.executable, "-m", "credvault", "serve"],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        # The key is saved right after initialisation, before set-up uses the root token: freeze
        # OpenBao there, so set-up cannot finish, and kill credvault.
        deadline = time.monotonic() + 60
        while not key_file.exists():
            assert first.poll() is None and time.monotonic() < deadline, (run / "first.log").read_text()
            time.sleep(0.002)
        children = Path(f"/proc/{first.pid}/task/{first.pid}/children").read_text().split()
        bao = int(children[0])
        os.kill(bao, signal.SIGSTOP)
        first.kill()
        first.wait(timeout=10)
        os.kill(bao, signal.SIGCONT)  # the SIGTERM the kernel sent it on credvault's death now acts
    finally:
        if first.poll() is None:
            first.kill()
    assert not (tmp_path / "data" / "approle.json").exists(), "set-up finished before the kill"
    for path in files_under(tmp_path / "data", key_file):
        assert not ROOT_TOKEN_SHAPE.search(path.read_bytes()), f"a token in {path}"

    # The next start makes a root token from the unseal key, finishes set-up, and serves.
    process = CredvaultProcess(env, run).start()
    create_and_read(process.address, fakes)
    assert process.stop() == 0
    for path in files_under(tmp_path / "data", key_file):
        assert not ROOT_TOKEN_SHAPE.search(path.read_bytes()), f"a token in {path}"


def core_limit() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


@pytest.mark.parametrize("workers", ["1", "2"])
def test_no_server_process_leaves_a_core_dump(openbao, fakes, tmp_path, workers):
    # Control: an ordinary process aborted here leaves a core file, else this machine writes none.
    control = tmp_path / "control"
    control.mkdir()
    subprocess.run(
        [sys.executable, "-c", "import os; os.abort()"], cwd=control, preexec_fn=core_limit, check=False
    )
    if not any(control.iterdir()):
        unavailable("this machine writes no core files (kernel.core_pattern), so undumpability can't be seen")
    run = tmp_path / "run"
    run.mkdir()
    with open(tmp_path / "out.log", "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "credvault", "serve"],
            env={**os.environ, **server_env(openbao, fakes, CREDVAULT_WORKERS=workers)},
            cwd=run,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=core_limit,
        )
    try:
        deadline = time.monotonic() + 60
        while "credvault listening on" not in (tmp_path / "out.log").read_text():
            assert server.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        for pid in [*map(int, children), server.pid]:  # the workers, when there are any, then the parent
            os.kill(pid, signal.SIGABRT)
            while Path(f"/proc/{pid}").exists() and pid != server.pid:
                if Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z"):
                    break  # aborted, waiting for its parent to collect it
                time.sleep(0.02)
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert list(run.iterdir()) == [], "a credvault process left a core dump holding its memory"


@pytest.mark.parametrize("variable", ["VAULT_SECRET_ID", "VAULT_TOKEN"])
def test_vault_secrets_can_come_from_files(openbao, fakes, tmp_path, variable):
    env = server_env(openbao, fakes)
    secret = openbao.secret_id if variable == "VAULT_SECRET_ID" else ROOT_TOKEN
    if variable == "VAULT_TOKEN":
        del env["VAULT_ROLE_ID"]
    del env["VAULT_SECRET_ID"]
    (tmp_path / "secret").write_text(secret + "\n")
    env[f"{variable}_FILE"] = str(tmp_path / "secret")
    process = CredvaultProcess(env, tmp_path / "run").start()
    create_and_read(process.address, fakes)
    assert process.stop() == 0
    assert secret not in process.logs() + process.stdout()
