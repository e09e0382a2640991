"""A credvault to measure, on this machine: `credvault serve` on its embedded OpenBao in a temporary
directory, with the fake JumpCloud API from the tests standing in for the real one. Shared by the
reliability harnesses (bench.hanging_providers, bench.soak)."""

from __future__ import annotations

import json
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fakes.base import Response
from fakes.jumpcloud import FakeJumpCloud
from support import ORG, CredvaultProcess

__all__ = ["Response", "Target", "local_credvault", "percentile", "rss_mb"]


@dataclass
class Target:
    address: str
    process: CredvaultProcess
    jumpcloud: FakeJumpCloud

    def new_key(self) -> str:
        """A JumpCloud API key the fake accepts."""
        key = f"jca_{uuid.uuid4().hex}"
        self.jumpcloud.add_key(key, orgs=[ORG])
        return key

    def pids(self) -> dict[str, int]:
        """credvault's process id and its embedded OpenBao's."""
        assert self.process.process is not None
        pid = self.process.process.pid
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        found = {"credvault": pid}
        if children:
            found["openbao"] = int(children[0])
        return found


@contextmanager
def local_credvault(**env: str) -> Iterator[Target]:
    """Starts the fake JumpCloud and `credvault serve` (embedded OpenBao); stops both afterwards."""
    jumpcloud = FakeJumpCloud().start()
    with tempfile.TemporaryDirectory(prefix="credvault-bench-") as workdir:
        process = CredvaultProcess(
            {
                "CREDVAULT_DATA_DIR": str(Path(workdir) / "data"),
                "CREDVAULT_LISTEN": "127.0.0.1:0",
                "CREDVAULT_PROVIDER_URLS": json.dumps({"jumpcloud": jumpcloud.url}),
                "CREDVAULT_LOG_LEVEL": "WARNING",
                "VAULT_ADDR": "",
                **env,
            },
            Path(workdir) / "run",
        ).start()
        try:
            yield Target(process.address, process, jumpcloud)
        finally:
            process.stop()
            jumpcloud.stop()


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
