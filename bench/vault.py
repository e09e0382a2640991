"""A real OpenBao dev server for the benchmark, and fast seeding of connections straight into its KV.

Seeding writes the entries exactly as credvault's store does (`<prefix>/<tenant>/<connection>` holding
`connection` and `credentials`), but over a few keep-alive HTTP connections with hand-made requests:
hvac spends ~1.5 ms of client CPU per write, which would make 100,000 writes take minutes.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import hvac
from support import start_openbao_dev

from credvault.domain.model import ConnectionRecord, Outcome, Status

ROOT_TOKEN = "bench-root-token"
MOUNT = "credvault"
PREFIX = "connections"
TENANT = "bench"


def connection_id(index: int) -> str:
    return f"c{index:06d}"


def api_key(index: int) -> str:
    return f"jca_bench_{index:06d}_0123456789abcdef0123456789"


@dataclass
class DevVault:
    addr: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]

    @classmethod
    def start(cls, port: int, workdir: Path) -> DevVault:
        addr = f"http://127.0.0.1:{port}"
        log = open(workdir / f"openbao-{port}.log", "wb")  # noqa: SIM115 - closed in stop()
        try:
            process = start_openbao_dev(port, ROOT_TOKEN, log)
        except RuntimeError:
            log.close()
            raise
        vault = cls(addr, process, log)
        hvac.Client(url=addr, token=ROOT_TOKEN).sys.enable_secrets_engine(
            "kv", path=MOUNT, options={"version": "2"}
        )
        return vault

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def seed(self, start: int, stop: int, connections: int = 16) -> float:
        """Writes connections `start`..`stop-1` of tenant `bench`; returns the seconds it took."""
        began = time.perf_counter()
        asyncio.run(_seed(self.addr, start, stop, connections))
        return time.perf_counter() - began


def entry(index: int) -> dict[str, object]:
    """What credvault's store keeps for a verified JumpCloud connection."""
    now = datetime.now(UTC)
    record = ConnectionRecord(
        tenant_id=TENANT,
        connection_id=connection_id(index),
        provider="jumpcloud",
        config={},
        labels={"seeded-by": "bench"},
        status=Status.ACTIVE,
        created_at=now,
        updated_at=now,
        last_verified_at=now,
        last_outcome=Outcome(True, "VERIFIED", 200, "", now),
    )
    return {"connection": record.to_dict(), "credentials": {"api_key": api_key(index)}}


async def _seed(addr: str, start: int, stop: int, connections: int) -> None:
    parts = urlsplit(addr)
    host, port = parts.hostname or "127.0.0.1", parts.port or 8200
    template = json.dumps({"data": entry(0)})
    todo = iter(range(start, stop))

    async def writer() -> None:
        reader, stream = await asyncio.open_connection(host, port)
        try:
            for index in todo:
                body = template.replace(api_key(0), api_key(index)).replace(
                    connection_id(0), connection_id(index)
                )
                raw = body.encode()
                path = f"/v1/{MOUNT}/data/{PREFIX}/{TENANT}/{connection_id(index)}"
                stream.write(
                    f"POST {path} HTTP/1.1\r\nHost: {host}\r\nX-Vault-Token: {ROOT_TOKEN}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(raw)}\r\n\r\n".encode()
                    + raw
                )
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                if status != 200:
                    raise RuntimeError(f"seeding {path} answered HTTP {status}")
        finally:
            stream.close()

    await asyncio.gather(*(writer() for _ in range(connections)))
