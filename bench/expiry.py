"""The expiry pass: how late its events come and what it costs in Vault requests.

    .venv/bin/python -m bench.expiry [--connections 200] [--spread 120] [--warning 60] [--idle 60]

Runs an OpenBao dev server, two credvault replicas with re-checks off and the Atlassian fake; first
measures `--idle` seconds with no connection (what the pass costs by itself), then creates
`--connections` Atlassian service-account connections (one tenant) whose `expires_at` fall evenly over
the next `--spread` seconds past `--warning`, and watches the events from the other replica: each
connection's EXPIRING and EXPIRED count (expected 1 each) and their delay after the moment, and the
replicas' Vault requests by operation, per second.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
from fakes.atlassian import FakeAtlassianCloud
from support import CredvaultProcess, free_port

from bench.rechecks import _vault_calls
from bench.vault import MOUNT, PREFIX, ROOT_TOKEN, DevVault
from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc

TENANT = "bench-expiry"
GRACE = 70.0
"""Seconds after the last moment that its events are waited for at most."""


def run(connections: int, spread: float, warning: float, idle: float, workdir: Path) -> dict[str, Any]:
    vault = DevVault.start(free_port(), workdir)
    cloud = FakeAtlassianCloud().start()
    servers: list[CredvaultProcess] = []
    try:
        env = {
            "VAULT_ADDR": vault.addr,
            "VAULT_TOKEN": ROOT_TOKEN,
            "CREDVAULT_VAULT_MOUNT": MOUNT,
            "CREDVAULT_VAULT_PREFIX": PREFIX,
            "CREDVAULT_LISTEN": "127.0.0.1:0",
            "CREDVAULT_PROVIDER_URLS": json.dumps(
                {
                    "atlassian-service-account": cloud.gateway_template,
                    "atlassian-service-account.tenant_info": cloud.tenant_info_template,
                }
            ),
            "CREDVAULT_RECHECK_INTERVAL": "0",
            "CREDVAULT_EXPIRY_WARNING": f"{warning:g}",
            "CREDVAULT_METRICS_LISTEN": "127.0.0.1:0",
            "CREDVAULT_LOG_LEVEL": "WARNING",
        }
        servers = [CredvaultProcess(env, workdir / f"replica{i}").start() for i in range(2)]
        before = [_vault_calls(s) for s in servers]
        time.sleep(idle)
        idle_calls = _sum([_vault_calls(s) for s in servers]) - _sum(before)
        channels = [grpc.insecure_channel(s.address) for s in servers]
        stubs = [credvault_pb2_grpc.CredentialVaultStub(c) for c in channels]
        events: list[tuple[pb.ConnectionEvent, float]] = []
        watch = stubs[1].WatchConnectionEvents(
            pb.WatchConnectionEventsRequest(tenant_id=TENANT), timeout=3600
        )
        watch.initial_metadata()
        reader = threading.Thread(target=_read, args=(watch, events), daemon=True)
        reader.start()
        start = datetime.now(UTC) + timedelta(seconds=warning + 10)
        moments = {f"c{n}": start + timedelta(seconds=spread * n / connections) for n in range(connections)}
        before = [_vault_calls(s) for s in servers]
        began = time.time()
        _create(stubs, cloud, moments)
        created = time.time()
        last = max(moments.values()).timestamp()
        while len(events) < 3 * connections and time.time() < last + GRACE:
            time.sleep(0.5)
        time.sleep(2)  # any duplicate would come meanwhile
        busy_calls = _sum([_vault_calls(s) for s in servers]) - _sum(before)
        busy_seconds = time.time() - began
        watch.cancel()
        for channel in channels:
            channel.close()
    finally:
        for server in servers:
            server.stop()
        cloud.stop()
        vault.stop()
    return _report(moments, warning, events, idle, idle_calls, busy_seconds, busy_calls, created - began)


def _read(watch: Any, events: list[tuple[pb.ConnectionEvent, float]]) -> None:
    try:
        for event in watch:
            events.append((event, time.time()))
    except grpc.RpcError:
        return


def _create(stubs: list[Any], cloud: FakeAtlassianCloud, moments: dict[str, datetime]) -> None:
    bot = "bench-bot@serviceaccount.atlassian.com"
    site, token = cloud.add_service_account(bot)

    def create(item: tuple[int, tuple[str, datetime]]) -> None:
        n, (cid, expires_at) = item
        stubs[n % 2].CreateConnection(
            pb.CreateConnectionRequest(
                tenant_id=TENANT,
                connection_id=cid,
                provider="atlassian-service-account",
                credentials={"email": bot, "api_token": token},
                config={"cloud_id": site.cloud_id, "expires_at": expires_at.isoformat()},
            ),
            timeout=30,
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, enumerate(moments.items())))


def _sum(counters: list[Counter[str]]) -> Counter[str]:
    total: Counter[str] = Counter()
    for counter in counters:
        total.update(counter)
    return total


def _report(
    moments: dict[str, datetime],
    warning: float,
    events: list[tuple[pb.ConnectionEvent, float]],
    idle: float,
    idle_calls: Counter[str],
    busy_seconds: float,
    busy_calls: Counter[str],
    create_seconds: float,
) -> dict[str, Any]:
    counts: Counter[tuple[str, str]] = Counter()
    delays: dict[str, list[float]] = {"EXPIRING": [], "EXPIRED": []}
    for event, _received in events:
        kind = pb.ConnectionEventType.Name(event.type).removeprefix("CONNECTION_EVENT_TYPE_")
        counts[(event.connection_id, kind)] += 1
        if kind in delays:
            moment = moments[event.connection_id] - (
                timedelta(seconds=warning) if kind == "EXPIRING" else timedelta()
            )
            delays[kind].append((event.occurred_at.ToDatetime(UTC) - moment).total_seconds())

    def per_second(calls: Counter[str], seconds: float) -> dict[str, float]:
        return {op: round(n / seconds, 2) for op, n in sorted(calls.items())}

    def spread(values: list[float]) -> dict[str, float]:
        if not values:
            return {}
        ordered = sorted(values)
        return {
            "min": round(ordered[0], 3),
            "median": round(statistics.median(ordered), 3),
            "p99": round(ordered[int(0.99 * (len(ordered) - 1))], 3),
            "max": round(ordered[-1], 3),
        }

    return {
        "connections": len(moments),
        "events_per_connection": {
            kind: dict(Counter(counts[(cid, kind)] for cid in moments)) for kind in ("EXPIRING", "EXPIRED")
        },
        "delay_after_moment_s": {kind: spread(values) for kind, values in delays.items()},
        "vault_requests_per_s_idle": per_second(idle_calls, idle),
        "vault_requests_per_s_busy": per_second(busy_calls, busy_seconds),
        "create_seconds": round(create_seconds, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--spread", type=float, default=120)
    parser.add_argument("--warning", type=float, default=60)
    parser.add_argument("--idle", type=float, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="credvault-expiry-") as scratch:
        report = run(args.connections, args.spread, args.warning, args.idle, Path(scratch))
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
