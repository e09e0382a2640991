"""The load generator: a separate process that reads one JSON job per line on stdin, drives it, and
writes one JSON result per line on stdout.

A job keeps `inflight` calls outstanding for `warmup + duration` seconds and records the latency of each
call that starts after the warm-up. gRPC jobs send pre-serialised requests and keep responses as bytes,
so the client spends as little CPU as it can (it shares the machine with the server); calls are spread
over `channels` channels, each its own HTTP/2 connection (so SO_REUSEPORT workers all get some).
The raw-Vault job is what a team would do instead of credvault: hvac KV v2 reads from `inflight` threads.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import grpc
import hvac
import requests
from grpc_health.v1 import health_pb2

from bench.vault import MOUNT, PREFIX, ROOT_TOKEN, TENANT, api_key, connection_id
from credvault.v1 import credvault_pb2 as pb

METHODS = {
    "check": "/grpc.health.v1.Health/Check",
    "auth": "/credvault.v1.CredentialVault/GetAuthHeaders",
    "create": "/credvault.v1.CredentialVault/CreateConnection",
}


def main() -> None:
    for line in sys.stdin:
        job = json.loads(line)
        began = resource.getrusage(resource.RUSAGE_SELF)
        result = _vault_job(job) if job["kind"] == "vault" else asyncio.run(_grpc_job(job))
        ended = resource.getrusage(resource.RUSAGE_SELF)
        result["client_cpu_s"] = (ended.ru_utime + ended.ru_stime) - (began.ru_utime + began.ru_stime)
        print(json.dumps(result), flush=True)


def _requests(job: dict[str, Any]) -> Callable[[], bytes | None]:
    """A function returning the next serialised request of the job (None: the job is done)."""
    keys = int(job.get("keys", 1))
    if job["rpc"] == "check":
        empty = health_pb2.HealthCheckRequest().SerializeToString()
        return lambda: empty
    if job["rpc"] == "auth":
        made = [
            pb.GetAuthHeadersRequest(tenant_id=TENANT, connection_id=connection_id(i)).SerializeToString()
            for i in range(keys)
        ]
        if job.get("once"):  # each key once, in order (to fill a cache)
            ordered = iter(made)
            return lambda: next(ordered, None)
        return lambda: made[random.randrange(keys)]

    def create() -> bytes:
        return pb.CreateConnectionRequest(
            tenant_id=f"{TENANT}-create",
            connection_id=uuid.uuid4().hex,
            provider="jumpcloud",
            credentials={"api_key": api_key(0)},
        ).SerializeToString()

    return create


async def _grpc_job(job: dict[str, Any]) -> dict[str, Any]:
    options = [("grpc.use_local_subchannel_pool", 1)]
    channels = [grpc.aio.insecure_channel(job["target"], options=options) for _ in range(job["channels"])]
    try:
        for channel in channels:
            await asyncio.wait_for(channel.channel_ready(), 30)
        calls = [channel.unary_unary(METHODS[job["rpc"]]) for channel in channels]
        next_request = _requests(job)
        latencies: list[float] = []
        errors: dict[str, int] = {}
        completed = [0]
        start = time.perf_counter()
        measure_from = start + job["warmup"]
        end = measure_from + job["duration"]

        async def caller(index: int) -> None:
            call = calls[index % len(calls)]
            while True:
                request = next_request()
                began = time.perf_counter()
                if began >= end or request is None:
                    return
                try:
                    await call(request, timeout=30)
                except grpc.aio.AioRpcError as error:
                    errors[error.code().name] = errors.get(error.code().name, 0) + 1
                    continue
                completed[0] += 1
                if began >= measure_from:
                    latencies.append(time.perf_counter() - began)

        await asyncio.gather(*(caller(i) for i in range(job["inflight"])))
        return _summary(latencies, errors, job["duration"], completed[0])
    finally:
        for channel in channels:
            await channel.close()


def _vault_job(job: dict[str, Any]) -> dict[str, Any]:
    keys = int(job["keys"])
    paths = [f"{PREFIX}/{TENANT}/{connection_id(i)}" for i in range(keys)]
    latencies: list[float] = []
    errors: dict[str, int] = {}
    completed = [0]
    lock = threading.Lock()
    start = time.perf_counter()
    measure_from = start + job["warmup"]
    end = measure_from + job["duration"]

    def reader() -> None:
        session = requests.Session()
        session.trust_env = False  # the tuning credvault's own store has, so the comparison is fair
        client = hvac.Client(url=job["addr"], token=ROOT_TOKEN, session=session, timeout=30)
        kv = client.secrets.kv.v2
        mine: list[float] = []
        done = 0
        while True:
            path = paths[random.randrange(keys)]
            began = time.perf_counter()
            if began >= end:
                break
            try:
                kv.read_secret_version(path=path, mount_point=MOUNT, raise_on_deleted_version=True)
            except (hvac.exceptions.VaultError, requests.RequestException) as error:
                with lock:
                    errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
                continue
            if began >= measure_from:
                mine.append(time.perf_counter() - began)
            done += 1
        with lock:
            latencies.extend(mine)
            completed[0] += done

    threads = [threading.Thread(target=reader) for _ in range(job["inflight"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _summary(latencies, errors, job["duration"], completed[0])


def _summary(
    latencies: list[float], errors: dict[str, int], seconds: float, completed: int
) -> dict[str, Any]:
    """`calls` were measured (after the warm-up); `completed` counts the warm-up's too."""
    return {
        "calls": len(latencies),
        "completed": completed,
        "seconds": seconds,
        "errors": errors,
        "latencies_us": [round(value * 1e6) for value in latencies],
    }


if __name__ == "__main__":
    main()
