"""The benchmark: `python -m bench [--quick]`. Starts two real OpenBao dev servers (one holding a small
number of connections, one a large number), seeds them, starts the credvault servers, drives every
scenario from a separate load-generator process, and writes results.json and results.png.

Scenarios run in rounds, interleaved, so that the noise of a shared machine spreads over all of them
alike; each scenario runs at every level of in-flight calls given (the first level is the one latency
targets are read from, the last the one throughput targets are read from).
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.fake_provider import FakeJumpCloud
from bench.report import chart, ratios, render
from bench.servers import Server
from bench.vault import ROOT_TOKEN, DevVault

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str
    job: dict[str, Any]
    server: Server | None


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small, short run that checks the harness")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--small", type=int, help="connections in the small store (default 1000)")
    parser.add_argument("--large", type=int, help="connections in the large store (default 100000)")
    parser.add_argument("--hot", type=int, help="connections the warm scenarios read (default 100)")
    parser.add_argument("--inflight", help="comma-separated in-flight call counts (default 1,32)")
    parser.add_argument("--duration", type=float, help="seconds each scenario is measured per round")
    parser.add_argument("--rounds", type=int, help="rounds of all scenarios (default 2)")
    parser.add_argument("--channels", type=int, default=4, help="gRPC channels (connections) per job")
    parser.add_argument("--workers", type=int, default=2, help="CREDVAULT_WORKERS of the scaling server")
    parser.add_argument("--cache-size", type=int, default=10_000, help="CREDVAULT_CACHE_SIZE (warm)")
    parser.add_argument("--cache-ttl", type=float, default=10.0, help="CREDVAULT_CACHE_TTL (warm)")
    args = parser.parse_args(argv)
    quick = args.quick
    args.small = args.small or (100 if quick else 1000)
    args.large = args.large or (1000 if quick else 100_000)
    args.hot = min(args.hot or (20 if quick else 100), args.small)
    args.inflight = [int(n) for n in (args.inflight or ("1,8" if quick else "1,32")).split(",")]
    args.duration = args.duration or (0.5 if quick else 4.0)
    args.rounds = args.rounds or (1 if quick else 2)
    args.warmup = 0.2 if quick else 0.5
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="credvault-bench-") as scratch:
        return _run(args, Path(scratch), began)


def _run(args: argparse.Namespace, scratch: Path, began: float) -> int:
    vaults: list[DevVault] = []
    servers: list[Server] = []
    fake = FakeJumpCloud()
    loadgen = None
    try:
        small = DevVault.start(_free_port(), scratch)
        vaults.append(small)
        large = DevVault.start(_free_port(), scratch)
        vaults.append(large)

        def server(name: str, vault: DevVault, **env: str) -> Server:
            made = Server(
                name,
                {
                    "VAULT_ADDR": vault.addr,
                    "VAULT_TOKEN": ROOT_TOKEN,
                    "CREDVAULT_VAULT_CREATE_MOUNT": "false",
                    "CREDVAULT_LISTEN": "127.0.0.1:0",
                    "CREDVAULT_PROVIDER_URLS": json.dumps({"jumpcloud": fake.url}),
                    "CREDVAULT_CACHE_SIZE": str(args.cache_size),
                    "CREDVAULT_CACHE_TTL": str(args.cache_ttl),
                    # The seeded keys are not the fake's: scheduled checks would turn them INVALID.
                    "CREDVAULT_RECHECK_INTERVAL": "0",
                    **env,
                },
                scratch / name,
            )
            servers.append(made)
            made.launch()
            return made

        warm = server("warm", small)
        cold = server("cold", small, CREDVAULT_CACHE_SIZE="0")
        warm_large = server("warm-large", large)
        cold_large = server("cold-large", large, CREDVAULT_CACHE_SIZE="0")
        scaled = server("workers", small, CREDVAULT_WORKERS=str(args.workers))
        _say(f"seeding {args.small:,} connections into one OpenBao and {args.large:,} into another")
        seed_small = small.seed(0, args.small)
        seed_large = large.seed(0, args.large)
        _say(f"seeded in {seed_small:.1f} s and {seed_large:.1f} s ({args.large / seed_large:,.0f} writes/s)")
        for each in servers:
            each.wait_listening()
        loadgen = subprocess.Popen(
            [sys.executable, "-m", "bench.loadgen"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

        def run(scenario: Scenario, inflight: int, **extra: Any) -> dict[str, Any]:
            assert loadgen is not None and loadgen.stdin is not None and loadgen.stdout is not None
            job = {
                **scenario.job,
                "inflight": inflight,
                "channels": args.channels,
                "duration": args.duration,
                "warmup": args.warmup,
                **extra,
            }
            cpu_before = scenario.server.cpu_seconds() if scenario.server else 0.0
            loadgen.stdin.write(json.dumps(job) + "\n")
            loadgen.stdin.flush()
            line = loadgen.stdout.readline()
            if not line:
                raise RuntimeError("the load generator died")
            result: dict[str, Any] = json.loads(line)
            if scenario.server:
                result["server_cpu_s"] = scenario.server.cpu_seconds() - cpu_before
            return result

        def auth(name: str, label: str, target: Server, keys: int) -> Scenario:
            job = {"kind": "grpc", "rpc": "auth", "target": target.address, "keys": keys}
            return Scenario(name, label, job, target)

        n_small, n_large = _count(args.small), _count(args.large)
        scenarios = [
            Scenario(
                "floor", "floor: health Check", {"kind": "grpc", "rpc": "check", "target": warm.address}, warm
            ),
            Scenario(
                "vault",
                f"raw Vault: hvac KV v2 read ({n_small})",
                {"kind": "vault", "addr": small.addr, "keys": args.small},
                None,
            ),
            auth("cold", f"GetAuthHeaders cold ({n_small})", cold, args.small),
            auth("warm", f"GetAuthHeaders warm ({n_small})", warm, args.hot),
            auth("cold_large", f"GetAuthHeaders cold ({n_large})", cold_large, args.large),
            auth("warm_large", f"GetAuthHeaders warm ({n_large})", warm_large, args.hot),
            Scenario(
                "floor_workers",
                f"floor, {args.workers} workers",
                {"kind": "grpc", "rpc": "check", "target": scaled.address},
                scaled,
            ),
            auth("warm_workers", f"GetAuthHeaders warm, {args.workers} workers", scaled, args.hot),
            Scenario(
                "create",
                "CreateConnection (verified)",
                {"kind": "grpc", "rpc": "create", "target": warm_large.address},
                warm_large,
            ),
        ]
        for target in (warm, warm_large, scaled):  # the hot connections in cache before measuring
            run(auth("fill", "", target, args.hot), 16, once=True, duration=600, warmup=0)
        memory = {"warm_large_hot_bytes": warm_large.rss_bytes()}

        results: dict[str, dict[str, Any]] = {}
        for inflight in args.inflight:
            for round_no in range(args.rounds):
                for scenario in scenarios:
                    _say(f"in-flight {inflight}, round {round_no + 1}/{args.rounds}: {scenario.label}")
                    result = run(scenario, inflight)
                    _merge(results.setdefault(f"{scenario.name}@{inflight}", {}), result)

        fill = min(args.cache_size, args.large)
        _say(f"filling the large server's cache with {fill:,} connections to measure its memory")
        run(auth("fill", "", warm_large, fill), 32, once=True, duration=600, warmup=0)
        memory["warm_large_full_bytes"] = warm_large.rss_bytes()
        memory["cache_entries"] = fill
        memory["hot_entries"] = args.hot
        memory["cold_large_bytes"] = cold_large.rss_bytes()

        report = {
            "settings": {
                "quick": args.quick,
                "small": args.small,
                "large": args.large,
                "hot": args.hot,
                "inflight": args.inflight,
                "duration": args.duration,
                "rounds": args.rounds,
                "channels": args.channels,
                "workers": args.workers,
                "cache_size": args.cache_size,
                "cache_ttl": args.cache_ttl,
                "cpus": _cpus(),
            },
            "seeding": {
                "small_s": seed_small,
                "large_s": seed_large,
                "large_writes_per_s": args.large / seed_large,
            },
            "scenarios": {
                key: _finish(value, next(s.label for s in scenarios if s.name == key.split("@")[0]))
                for key, value in results.items()
            },
            "memory": memory,
        }
        report["ratios"] = ratios(report)
        report["elapsed_s"] = time.monotonic() - began
        (args.out / "results.json").write_text(json.dumps(report, indent=2) + "\n")
        chart(report, args.out / "results.png")
        print(render(report))
        print(f"wrote {args.out / 'results.json'} and {args.out / 'results.png'}")
        return 0
    finally:
        if loadgen is not None:
            if loadgen.stdin:
                loadgen.stdin.close()
            loadgen.wait(timeout=30)
        for each in servers:
            each.stop()
        for vault in vaults:
            vault.stop()
        fake.stop()


def _merge(total: dict[str, Any], result: dict[str, Any]) -> None:
    total.setdefault("latencies_us", []).extend(result["latencies_us"])
    total["calls"] = total.get("calls", 0) + result["calls"]
    total["completed"] = total.get("completed", 0) + result["completed"]
    total["seconds"] = total.get("seconds", 0.0) + result["seconds"]
    total["client_cpu_s"] = total.get("client_cpu_s", 0.0) + result["client_cpu_s"]
    if "server_cpu_s" in result:
        total["server_cpu_s"] = total.get("server_cpu_s", 0.0) + result["server_cpu_s"]
    for code, count in result["errors"].items():
        total.setdefault("errors", {})[code] = total.get("errors", {}).get(code, 0) + count


def _finish(total: dict[str, Any], label: str) -> dict[str, Any]:
    latencies = sorted(total.pop("latencies_us"))
    done = total["completed"] or 1
    summary: dict[str, Any] = {
        "label": label,
        "calls": total["calls"],
        "throughput": total["calls"] / total["seconds"],
        "p50_ms": _quantile(latencies, 0.50) / 1000,
        "p99_ms": _quantile(latencies, 0.99) / 1000,
        "mean_ms": (statistics.fmean(latencies) / 1000) if latencies else 0.0,
        "client_cpu_us_per_call": total["client_cpu_s"] / done * 1e6,
        "errors": total.get("errors", {}),
    }
    if "server_cpu_s" in total:
        summary["server_cpu_us_per_call"] = total["server_cpu_s"] / done * 1e6
    return summary


def _quantile(ordered: list[int], q: float) -> float:
    if not ordered:
        return 0.0
    return float(ordered[min(int(q * len(ordered)), len(ordered) - 1)])


def _count(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _say(line: str) -> None:
    print(line, flush=True)
