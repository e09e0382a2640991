"""Scheduled re-checks at scale: how evenly two replicas spread the checks, and what the schedule costs.

    .venv/bin/python -m bench.rechecks soak [--connections 1000] [--interval 60] [--duration 600]
                                            [--rate 15] [--replicas 2]
    .venv/bin/python -m bench.rechecks scale [--connections 100000]

`soak` runs a 3-node OpenBao Raft cluster, `--replicas` credvault replicas and the JumpCloud and
Atlassian Admin fakes; creates the connections (half on each provider) through the API, then watches
`--duration` seconds of scheduled checks at the fakes: checks per connection (expected:
duration / interval, plus or minus one), the busiest second against the average, the most checks one
provider saw in one second (never more than `--rate`), and the Vault requests the replicas made, by
operation, per second. `scale` seeds `--connections` entries into an OpenBao dev server and measures
what one slice of the schedule costs there: its Vault requests, their time, and the memory it holds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
from cluster import BaoCluster
from fakes.atlassian_admin import FakeAtlassianAdmin
from fakes.jumpcloud import FakeJumpCloud
from support import ORG, CredvaultProcess, free_port, scrape

from bench.local_credvault import rss_mb
from bench.vault import MOUNT, PREFIX, ROOT_TOKEN, DevVault
from credvault.config import VaultSettings
from credvault.domain.recheck_timing import Timing
from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc
from credvault.vault.schedule_documents import VaultRoster
from credvault.vault.store import VaultStore

GRACE = 5.0
"""Seconds after the window that checks due inside it may still come (a loaded machine stalls)."""
RESTART_AFTER = 3.0
SCHEDULE_OPERATIONS = ("schedule_read", "schedule_write", "list_tenants", "list", "read", "replace")


def soak(
    connections: int,
    interval: float,
    duration: float,
    rate: float,
    replicas: int,
    workdir: Path,
    kill_at: float | None = None,
) -> dict[str, Any]:
    """Runs the soak; with `kill_at`, replica 0 is killed (SIGKILL) that many seconds into the window
    and started again a few seconds later."""
    (workdir / "raft").mkdir()
    jumpcloud, admin = FakeJumpCloud().start(), FakeAtlassianAdmin().start()
    urls = {"jumpcloud": jumpcloud.url, "atlassian-admin": admin.url}
    try:
        with (
            BaoCluster(workdir / "raft") as cluster,
            cluster.replicas(
                replicas,
                workdir,
                urls,
                CREDVAULT_RECHECK_INTERVAL=f"{interval:g}",
                CREDVAULT_RECHECK_RATE=f"{rate:g}",
                CREDVAULT_METRICS_LISTEN="127.0.0.1:0",
                CREDVAULT_LOG_LEVEL="WARNING",
            ) as servers,
        ):
            keys = _create(servers, jumpcloud, admin, connections)
            # A slice lists its connections when it begins: one created during it is first checked in a
            # later turn. So the window opens once a whole slice has begun after the last create.
            time.sleep(Timing(interval, rate, 0).width + GRACE)
            before = [_vault_calls(s) for s in servers]
            started = time.time()
            if kill_at is not None:  # kill -9 one replica, then start it again: no burst, no lost turn
                time.sleep(kill_at)
                lost = _vault_calls(servers[0]) - before[0]
                servers[0].stop(signal.SIGKILL)
                time.sleep(RESTART_AFTER)
                servers[0].start()
                before[0] = Counter({op: -n for op, n in lost.items()})
            time.sleep(max(started + duration - time.time(), 0.0))
            ended = time.time()
            time.sleep(GRACE)  # checks due before the end but made just after it still count
            after = [_vault_calls(s) for s in servers]
            memory = [round(rss_mb(s.process.pid), 1) for s in servers if s.process is not None]
    finally:
        jumpcloud.stop()
        admin.stop()
    report = _report(keys, jumpcloud, admin, started, ended, interval, rate, before, after, memory)
    return report | {"killed_a_replica_at_s": kill_at}


def _create(
    servers: list[CredvaultProcess], jumpcloud: FakeJumpCloud, admin: FakeAtlassianAdmin, count: int
) -> dict[str, tuple[str, str, str]]:
    """Creates `count` connections over 20 tenants through the replicas; returns each key's provider,
    tenant and connection id."""
    channels = [grpc.insecure_channel(s.address) for s in servers]
    stubs = [credvault_pb2_grpc.CredentialVaultStub(c) for c in channels]
    keys: dict[str, tuple[str, str, str]] = {}

    def create(n: int) -> None:
        if n % 2:
            key, provider = admin.add_key([ORG]), "atlassian-admin"
        else:
            key, provider = f"jca_{uuid.uuid4().hex}", "jumpcloud"
            jumpcloud.add_key(key, orgs=[ORG])
        keys[key] = (provider, f"tenant{n % 20}", f"c{n}")
        stubs[n % len(stubs)].CreateConnection(
            pb.CreateConnectionRequest(
                tenant_id=f"tenant{n % 20}",
                connection_id=f"c{n}",
                provider=provider,
                credentials={"api_key": key},
            ),
            timeout=30,
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(count)))
    for channel in channels:
        channel.close()
    return keys


def _key_of(headers: Any) -> str:
    return str(headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer "))


def _vault_calls(server: CredvaultProcess) -> Counter[str]:
    _, samples = scrape(server)
    calls: Counter[str] = Counter()
    for (name, labels), value in samples.items():
        if name == "credvault_vault_request_duration_seconds_count":
            calls[dict(labels)["operation"]] += int(value)
    return calls


def _report(
    keys: dict[str, tuple[str, str, str]],
    jumpcloud: FakeJumpCloud,
    admin: FakeAtlassianAdmin,
    started: float,
    ended: float,
    interval: float,
    rate: float,
    before: list[Counter[str]],
    after: list[Counter[str]],
    memory: list[float],
) -> dict[str, Any]:
    """Each check counts for the cycle it was due in (its lateness taken as under one interval)."""
    per_key: Counter[str] = Counter()
    per_second: Counter[int] = Counter()
    per_provider_second: dict[str, Counter[int]] = defaultdict(Counter)
    timing = Timing(interval, rate, 0)
    late: list[float] = []
    for fake in (jumpcloud, admin):
        for request in list(fake.requests):
            key = _key_of(request.headers)
            if key not in keys:
                continue
            provider, tenant, connection_id = keys[key]
            after_due = (request.received_at - timing.phase(tenant, connection_id)) % interval
            if started <= request.received_at - after_due < ended:  # counted by the time it was due
                per_key[key] += 1
                per_second[int(request.received_at)] += 1
                per_provider_second[provider][int(request.received_at)] += 1
                late.append(after_due)
    counts = [per_key[key] for key in keys]
    expected = round((ended - started) / interval)
    late.sort()
    seconds = ended - started
    vault: Counter[str] = Counter()
    for b, a in zip(before, after, strict=True):
        vault.update(a - b)
    return {
        "connections": len(keys),
        "interval_s": interval,
        "duration_s": round(seconds, 1),
        "checks": sum(counts),
        "checks_per_connection": {
            "expected": expected,
            "min": min(counts),
            "max": max(counts),
            "mean": round(sum(counts) / len(counts), 3),
            "histogram": dict(sorted(Counter(counts).items())),
            "within_1_of_expected": sum(abs(c - expected) <= 1 for c in counts),
        },
        "seconds_after_due": {
            "p50": round(late[len(late) // 2], 2) if late else None,
            "p99": round(late[int(len(late) * 0.99)], 2) if late else None,
        },
        "checks_per_second": {
            "average": round(sum(counts) / seconds, 2),
            "busiest": max(per_second.values(), default=0),
        },
        "most_checks_one_provider_saw_in_a_second": {
            p: max(c.values(), default=0) for p, c in sorted(per_provider_second.items())
        },
        "rate_limit_per_provider": rate,
        "vault_requests_per_second_all_replicas": {
            op: round(n / seconds, 2) for op, n in sorted(vault.items()) if op in SCHEDULE_OPERATIONS
        },
        "replica_rss_mb": memory,
    }


def scale(connections: int, workdir: Path) -> dict[str, Any]:
    """Seeds `connections` entries (one tenant, the worst case for one listing) and measures one
    slice's enumeration with the default interval."""
    vault = DevVault.start(free_port(), workdir)
    try:
        seeded = vault.seed(0, connections)
        timing = Timing(interval=86400, rate=2, expiry_warning=14 * 86400)
        settings = VaultSettings(
            addr=vault.addr, token=ROOT_TOKEN, mount=MOUNT, prefix=PREFIX, create_mount=False
        )
        return asyncio.run(_one_slice(settings, timing)) | {
            "connections": connections,
            "seeding_s": round(seeded, 1),
            "slots_per_interval": timing.slots,
            "slice_s": timing.width,
        }
    finally:
        vault.stop()


async def _one_slice(settings: VaultSettings, timing: Timing) -> dict[str, Any]:
    store = VaultStore(settings)
    await store.open(30)
    roster = VaultRoster(store, settings)
    try:
        tracemalloc.start()
        began = time.perf_counter()
        tenants = await roster.tenants()
        mine = []
        for tenant in tenants:
            for connection_id in await roster.connection_ids(tenant):
                if timing.slot_of(tenant, connection_id) == 0:
                    mine.append((tenant, connection_id))
        took = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        store.close()
    return {
        "list_requests_per_slice": 1 + len(tenants),
        "listing_s": round(took, 2),
        "connections_in_slice": len(mine),
        "peak_python_memory_of_a_slice_listing_mb": round(peak / 2**20, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("soak")
    run.add_argument("--connections", type=int, default=1000)
    run.add_argument("--interval", type=float, default=60.0)
    run.add_argument("--duration", type=float, default=600.0)
    run.add_argument("--rate", type=float, default=15.0)
    run.add_argument("--replicas", type=int, default=2)
    run.add_argument(
        "--kill-at", type=float, help="kill -9 one replica this many seconds in, then restart it"
    )
    size = sub.add_parser("scale")
    size.add_argument("--connections", type=int, default=100_000)
    parser.add_argument(
        "--keep", type=Path, help="a directory to keep the logs in (default: a temporary one)"
    )
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="credvault-rechecks-", dir=args.keep) as scratch:
        if args.command == "soak":
            report = soak(
                args.connections, args.interval, args.duration, args.rate, args.replicas, Path(scratch)
            )
        else:
            report = scale(args.connections, Path(scratch))
        if args.keep:
            for log in Path(scratch).glob("replica*/stderr.log"):
                (args.keep / f"{log.parent.name}.log").write_bytes(log.read_bytes())
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
