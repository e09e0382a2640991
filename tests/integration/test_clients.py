"""The Node and Go clients, built from clients/ as a user builds them, run their own tests and examples
against the session's live server. Locally a missing toolchain skips; in CI (CI=true) it fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import ORG, require_tools, unavailable

ROOT = Path(__file__).parents[2]
NODE = ROOT / "clients/node"
GO = ROOT / "clients/go"
GO_IMPORT_PATH = "github.com/credvault/credvault/clients/go"
DEBIAN_GOCODE = "/usr/share/gocode"


@pytest.fixture
def client_env(server, fakes) -> dict[str, str]:
    """The environment the clients' tests read: the server's address and a key the fake accepts."""
    key = f"jca_{uuid.uuid4().hex}"
    fakes.jumpcloud.add_key(key, orgs=[ORG])
    return {
        **os.environ,
        "CREDVAULT_ADDRESS": server.address,
        "CREDVAULT_TEST_JUMPCLOUD_KEY": key,
        "JUMPCLOUD_API_KEY": key,
    }


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{output[-6000:]}"
    return output


def test_node_client_round_trip(client_env):
    require_tools("node", hint="apt-get install nodejs npm")
    if not (NODE / "node_modules").is_dir():
        unavailable("clients/node/node_modules missing: run npm ci in clients/node (scripts/test does)")
    output = run(["node", "--test"], NODE, client_env)
    assert "# pass 5" in output and "# skipped 0" in output, output


def test_node_example_runs(client_env):
    require_tools("node", hint="apt-get install nodejs npm")
    if not (NODE / "node_modules").is_dir():
        unavailable("clients/node/node_modules missing: run npm ci in clients/node (scripts/test does)")
    output = run(["node", "example.js"], NODE, client_env, timeout=60)
    assert "created jumpcloud-example: CONNECTION_STATUS_ACTIVE" in output
    assert "x-api-key" in output and client_env["JUMPCLOUD_API_KEY"] not in output


@dataclass
class GoTree:
    directory: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def go_tree(tmp_path_factory: pytest.TempPathFactory) -> GoTree:
    """clients/go copied to its import path in a GOPATH placed before Debian's Go sources: built offline
    in GOPATH mode, nothing downloaded (go.mod is for users; GO111MODULE=off ignores it)."""
    require_tools("go", hint="apt-get install golang-go and the Go gRPC packages, see .ci/run")
    if not Path(DEBIAN_GOCODE, "src/google.golang.org/grpc").is_dir():
        unavailable("Debian's Go gRPC sources missing (apt-get install golang-google-grpc-dev, see .ci/run)")
    root = tmp_path_factory.mktemp("gopath")
    directory = root / "src" / GO_IMPORT_PATH
    shutil.copytree(GO, directory)
    return GoTree(directory, {"GOPATH": f"{root}:{DEBIAN_GOCODE}", "GO111MODULE": "off", "GOFLAGS": ""})


def test_go_client_round_trip(client_env, go_tree: GoTree):
    env = {**client_env, **go_tree.env}
    run(["go", "vet", "./..."], go_tree.directory, env)
    output = run(["go", "test", "-count=1", "-v", "./..."], go_tree.directory, env)
    for name in (
        "TestRoundTrip",
        "TestErrorDetails",
        "TestConnectSessions",
        "TestWatchEvents",
        "TestKeepaliveParams",
    ):
        assert f"--- PASS: {name}" in output, output
    assert "--- SKIP" not in output


def test_go_example_runs(client_env, go_tree: GoTree):
    output = run(["go", "run", "./example"], go_tree.directory, {**client_env, **go_tree.env})
    assert "created jumpcloud-go-example: CONNECTION_STATUS_ACTIVE" in output
    assert "x-api-key" in output and client_env["JUMPCLOUD_API_KEY"] not in output
