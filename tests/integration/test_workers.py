"""CREDVAULT_WORKERS: several server processes on one port; and one server per port otherwise."""

from __future__ import annotations

import signal
from pathlib import Path

import grpc
import pytest
from conftest import server_env
from support import CredvaultProcess, free_port, scrape

from credvault import __version__
from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc


def children(pid: int) -> list[int]:
    return [int(c) for task in Path(f"/proc/{pid}/task").glob("*/children") for c in task.read_text().split()]


def test_workers_serve_one_port_and_one_metrics_endpoint_and_stop_cleanly(openbao, fakes, tmp_path):
    # A fixed metrics port, as the image sets one: the workers share it through the parent.
    metrics = f"127.0.0.1:{free_port()}"
    env = server_env(openbao, fakes, CREDVAULT_WORKERS="2", CREDVAULT_METRICS_LISTEN=metrics)
    server = CredvaultProcess(env, tmp_path).start()
    try:
        assert server.process is not None
        workers = children(server.process.pid)
        assert len(workers) >= 2
        for _ in range(6):  # separate connections, which the kernel spreads over the workers
            with grpc.insecure_channel(server.address, options=[("grpc.use_local_subchannel_pool", 1)]) as ch:
                answer = credvault_pb2_grpc.CredentialVaultStub(ch).ListProviders(
                    pb.ListProvidersRequest(), timeout=10
                )
                assert "jumpcloud" in {p.id for p in answer.providers}
        _, samples = scrape(server)
        calls = {"service": "credvault.v1.CredentialVault", "method": "ListProviders", "code": "OK"}
        assert samples[("credvault_rpc_duration_seconds_count", frozenset(calls.items()))] == 6
        assert samples[("credvault_serving", frozenset())] == 1
        assert ("credvault_build_info", frozenset({("version", __version__)})) in samples
        shared = Path(f"/proc/{workers[0]}/environ").read_bytes().split(b"\0")
        directory = next(v for v in shared if v.startswith(b"PROMETHEUS_MULTIPROC_DIR=")).partition(b"=")[2]
        assert Path(directory.decode()).is_dir()
    finally:
        code = server.stop(signal.SIGTERM)
    assert code == 0
    assert not Path(directory.decode()).exists(), "the workers' metrics files are removed at exit"


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_second_server_on_a_taken_port_fails_loudly(openbao, fakes, tmp_path, server, workers):
    env = server_env(openbao, fakes, CREDVAULT_LISTEN=server.address, CREDVAULT_WORKERS=workers)
    with pytest.raises(RuntimeError, match="cannot listen"):
        CredvaultProcess(env, tmp_path).start()
