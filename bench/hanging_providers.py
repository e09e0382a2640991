"""GetAuthHeaders latency while verifications hang on a provider that never answers.

    .venv/bin/python -m bench.hanging_providers [--hanging 100] [--calls 2000]

Measures GetAuthHeaders p50/p99 on an idle server, then again while `--hanging` CreateConnection calls
wait on a JumpCloud (fake) that accepts the connection and never answers, and prints the ratio of the
two p99s (the goal: at most 1.5). Outbound verification is bounded (CREDVAULT_MAX_VERIFICATIONS, 64 by
default): the rest of the hanging calls wait their turn without holding connections or Vault threads.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import grpc

from bench.local_credvault import Response, local_credvault, percentile
from credvault.polling import poll_until
from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc

TENANT = "bench"
HANG = 3600.0


def latencies(stub: credvault_pb2_grpc.CredentialVaultStub, ids: list[str], calls: int) -> list[float]:
    """Seconds each of `calls` GetAuthHeaders took, 8 in flight at a time."""

    def one(index: int) -> float:
        started = time.perf_counter()
        stub.GetAuthHeaders(
            pb.GetAuthHeadersRequest(tenant_id=TENANT, connection_id=ids[index % len(ids)]), timeout=10
        )
        return time.perf_counter() - started

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(calls)))


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 0.50) * 1000, 2),
        "p99_ms": round(percentile(values, 0.99) * 1000, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hanging", type=int, default=100, help="verifications left hanging")
    parser.add_argument("--calls", type=int, default=2000, help="GetAuthHeaders calls per measurement")
    args = parser.parse_args()

    with local_credvault(CREDVAULT_VERIFY_TIMEOUT="120") as target:
        channel = grpc.insecure_channel(target.address)
        stub = credvault_pb2_grpc.CredentialVaultStub(channel)
        ids = [f"c{n}" for n in range(20)]
        for connection_id in ids:
            stub.CreateConnection(
                pb.CreateConnectionRequest(
                    tenant_id=TENANT,
                    connection_id=connection_id,
                    provider="jumpcloud",
                    credentials={"api_key": target.new_key()},
                ),
                timeout=30,
            )
        latencies(stub, ids, 200)  # warm-up
        idle = latencies(stub, ids, args.calls)

        hanging_key = target.new_key()
        target.jumpcloud.override(hanging_key, Response(200, {"totalCount": 0, "results": []}, delay=HANG))
        before = len(target.jumpcloud.requests)
        hanging = [
            stub.CreateConnection.future(
                pb.CreateConnectionRequest(
                    tenant_id=TENANT,
                    connection_id=f"hang{n}",
                    provider="jumpcloud",
                    credentials={"api_key": hanging_key},
                ),
                timeout=300,
            )
            for n in range(args.hanging)
        ]
        poll_until(lambda: len(target.jumpcloud.requests) - before >= min(args.hanging, 64), 30)
        at_provider = len(target.jumpcloud.requests) - before
        loaded = latencies(stub, ids, args.calls)
        still_hanging = sum(not f.done() for f in hanging)
        for future in hanging:
            future.cancel()
        channel.close()

    report = {
        "idle": summary(idle),
        "with_hanging_verifications": summary(loaded),
        "hanging_calls": args.hanging,
        "hanging_at_provider": at_provider,
        "hanging_still_waiting_during_measurement": still_hanging,
        "p99_ratio": round(percentile(loaded, 0.99) / percentile(idle, 0.99), 2),
    }
    print(json.dumps(report, indent=2))
    return 0 if report["p99_ratio"] <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
