"""Mixed load for a while, watching throughput, errors and memory.

    .venv/bin/python -m bench.soak [--duration 600] [--concurrency 8] [--sample 5]

Runs GetAuthHeaders-heavy mixed traffic (creates, reads, label updates, verifications, deletes, lists)
against `credvault serve` on its embedded OpenBao, with the JumpCloud fake as the provider. Prints
throughput, calls by status code, latency, and the resident memory of credvault and of its OpenBao
sampled over time. Exits 1 if a call failed with a code a healthy server never answers (INTERNAL,
UNKNOWN, DEADLINE_EXCEEDED, ...) or if credvault's memory grew by more than `--max-growth-mb` after the
warm-up (the first fifth of the run).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import grpc

from bench.local_credvault import Target, local_credvault, percentile, rss_mb
from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc

EXPECTED = {"OK", "ALREADY_EXISTS", "NOT_FOUND", "ABORTED"}
"""Codes a healthy server may answer to this traffic; anything else is a finding."""
WEIGHTS = {"auth": 60, "get": 12, "create": 8, "update": 6, "verify": 4, "delete": 6, "list": 4}


@dataclass
class Tally:
    codes: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, operation: str, code: str, seconds: float) -> None:
        with self.lock:
            self.codes[f"{operation} {code}"] += 1
            self.latencies.append(seconds)


def worker(
    stub: credvault_pb2_grpc.CredentialVaultStub, target: Target, number: int, ends: float, tally: Tally
) -> None:
    """One caller with its own tenant and connections, so its creates and deletes are meaningful."""
    tenant = f"soak{number}"
    key = target.new_key()
    live: list[str] = []
    made = 0
    rng = random.Random(number)
    operations = list(WEIGHTS)
    weights = list(WEIGHTS.values())
    while time.monotonic() < ends:
        operation = rng.choices(operations, weights)[0] if live else "create"
        connection_id = rng.choice(live) if live else ""
        started = time.perf_counter()
        try:
            call(stub, operation, tenant, f"c{made}" if operation == "create" else connection_id, key)
            code = "OK"
        except grpc.RpcError as error:
            code = error.code().name
        tally.add(operation, code, time.perf_counter() - started)
        if operation == "create":
            if code == "OK":
                live.append(f"c{made}")
            made += 1
        elif operation == "delete" and code == "OK":
            live.remove(connection_id)
        if len(live) > 50:
            live.pop(0)  # keep working on a bounded set; the rest stay in Vault


def call(
    stub: credvault_pb2_grpc.CredentialVaultStub, operation: str, tenant: str, connection_id: str, key: str
) -> None:
    ids = {"tenant_id": tenant, "connection_id": connection_id}
    if operation == "auth":
        stub.GetAuthHeaders(pb.GetAuthHeadersRequest(**ids), timeout=5)
    elif operation == "get":
        stub.GetConnection(pb.GetConnectionRequest(**ids), timeout=5)
    elif operation == "create":
        request = pb.CreateConnectionRequest(
            **ids, provider="jumpcloud", credentials={"api_key": key}, labels={"soak": "yes"}
        )
        stub.CreateConnection(request, timeout=10)
    elif operation == "update":
        stub.UpdateConnection(pb.UpdateConnectionRequest(**ids, labels={"at": str(time.time())}), timeout=5)
    elif operation == "verify":
        stub.VerifyConnection(pb.VerifyConnectionRequest(**ids), timeout=10)
    elif operation == "delete":
        stub.DeleteConnection(pb.DeleteConnectionRequest(**ids), timeout=5)
    else:
        stub.ListConnections(pb.ListConnectionsRequest(tenant_id=tenant, page_size=20), timeout=5)


def run(
    duration: float, concurrency: int = 8, sample: float = 5.0, max_growth_mb: float = 40.0
) -> dict[str, Any]:
    """Runs the soak and returns its report (see `main`)."""
    tally = Tally()
    memory: list[dict[str, float]] = []
    with local_credvault() as target:
        pids = target.pids()
        channel = grpc.insecure_channel(target.address)
        stub = credvault_pb2_grpc.CredentialVaultStub(channel)
        started = time.monotonic()
        ends = started + duration
        with ThreadPoolExecutor(concurrency) as pool:
            workers = [pool.submit(worker, stub, target, n, ends, tally) for n in range(concurrency)]
            while time.monotonic() < ends:
                memory.append(
                    {"t": round(time.monotonic() - started, 1)}
                    | {name: round(rss_mb(pid), 1) for name, pid in pids.items()}
                )
                time.sleep(min(sample, max(ends - time.monotonic(), 0.01)))
            for future in workers:
                future.result()
        memory.append(
            {"t": round(time.monotonic() - started, 1)} | {n: round(rss_mb(p), 1) for n, p in pids.items()}
        )
        elapsed = time.monotonic() - started
        channel.close()

    calls = sum(tally.codes.values())
    unexpected = {k: v for k, v in tally.codes.items() if k.split()[1] not in EXPECTED}
    after_warmup = [m["credvault"] for m in memory if m["t"] >= duration / 5]
    growth = max(after_warmup) - after_warmup[0] if after_warmup else 0.0
    return {
        "duration_s": round(elapsed, 1),
        "concurrency": concurrency,
        "calls": calls,
        "calls_per_s": round(calls / elapsed, 1),
        "p50_ms": round(percentile(tally.latencies, 0.5) * 1000, 2),
        "p99_ms": round(percentile(tally.latencies, 0.99) * 1000, 2),
        "codes": dict(sorted(tally.codes.items())),
        "unexpected_codes": unexpected,
        "memory_mb": memory,
        "credvault_rss_growth_after_warmup_mb": round(growth, 1),
        "max_growth_mb": max_growth_mb,
        "ok": not unexpected and growth <= max_growth_mb,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load (default 600)")
    parser.add_argument("--concurrency", type=int, default=8, help="callers in parallel")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between memory samples")
    parser.add_argument("--max-growth-mb", type=float, default=40.0, help="allowed RSS growth after warm-up")
    args = parser.parse_args()
    report = run(args.duration, args.concurrency, args.sample, args.max_growth_mb)
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
