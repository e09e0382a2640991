"""`credvault serve` subprocesses for the benchmark, with their CPU time and resident memory read from
/proc (summed over a server's worker processes)."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from credvault.polling import poll_until

LISTENING = re.compile(r"credvault listening on (\S+)")
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Server:
    name: str
    env: dict[str, str]
    workdir: Path
    address: str = ""
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def launch(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.workdir / "stdout.log", "wb") as out, open(self.workdir / "stderr.log", "wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "credvault", "serve"],
                env={**os.environ, **self.env},
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )

    def wait_listening(self, timeout: float = 120.0) -> None:
        assert self.process is not None
        process = self.process

        def listening() -> re.Match[str] | None:
            if process.poll() is not None:
                raise self._failed()
            return LISTENING.search((self.workdir / "stdout.log").read_text())

        match = poll_until(listening, timeout, interval=0.05)
        if match is None:
            raise self._failed()
        self.address = match.group(1)

    def _failed(self) -> RuntimeError:
        log = (self.workdir / "stderr.log").read_text()[-2000:]
        return RuntimeError(f"server {self.name} did not start:\n{log}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def pids(self) -> list[int]:
        """The server process and its descendants (the workers)."""
        if self.process is None:
            return []
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                with contextlib.suppress(OSError):
                    todo += [int(child) for child in task.read_text().split()]
        return found

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / TICKS

    def rss_bytes(self) -> int:
        total = 0
        for pid in self.pids():
            try:
                total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
            except OSError:
                continue
        return total
