"""`python -m bench.client_cache [--quick]`: the clients' auth header caches, side by side in one run.

- Throughput and latency of `GetAuthHeaders` through each client (Python, Node.js, Go), with the cache
  on and off, at 1 and 8 callers (threads, concurrent promise loops, goroutines), against one replica
  whose own header cache is warm. Rounds interleave every case so a shared machine's noise spreads
  over all of them alike.
- Staleness: a change (`UpdateConnection`, `DeleteConnection`, a `VerifyConnection` that finds the key
  revoked, i.e. INVALIDATED) made through replica A, and a Python client with the cache on, watching
  through replica B: the time from the change's acknowledgement to the first call that no longer
  returns the old headers (polled every 0.2 ms).

- With NANGO_BASE_URL and NANGO_SECRET_KEY set (a Nango started by ../shared/peers/nango/setup.sh),
  Nango's credential fetch (`GET /connection/{id}`, what a Nango user's worker calls before each
  provider request) in the same rounds, from 1 and 8 threads on keep-alive connections.

Starts one OpenBao dev server, a stand-in JumpCloud, and two credvault replicas; writes
client_cache.json beside the main benchmark's results.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from credvault_client import Client, CredvaultError

from bench.fake_provider import FakeJumpCloud
from bench.servers import Server
from bench.vault import ROOT_TOKEN, DevVault, api_key

ROOT = Path(__file__).resolve().parent.parent
TENANT = "bench-cache"
GO_IMPORT_PATH = "github.com/credvault/credvault/clients/go"
DEBIAN_GOCODE = "/usr/share/gocode"
LANGUAGES = ("python", "node", "go", "nango")
CHANGES = ("update", "delete", "invalidate")
GIVE_UP = 30.0
"""Seconds a change may take to reach the cache before the run fails (the entries' cache_ttl is 300 s)."""


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.client_cache", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short run that checks the harness")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--duration", type=float, help="seconds per case per round (default 3)")
    parser.add_argument("--rounds", type=int, help="rounds of every case (default 2)")
    parser.add_argument("--samples", type=int, help="changes of each kind timed (default 100)")
    parser.add_argument(
        "--clients", default="python,node,go", help="comma-separated clients to measure (default: all three)"
    )
    args = parser.parse_args(argv)
    args.duration = args.duration or (0.5 if args.quick else 3.0)
    args.rounds = args.rounds or (1 if args.quick else 2)
    args.samples = args.samples or (5 if args.quick else 100)
    args.clients = set(args.clients.split(","))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="credvault-bench-cache-") as scratch:
        report = _run(args, Path(scratch))
    report["elapsed_s"] = time.monotonic() - began
    (args.out / "client_cache.json").write_text(json.dumps(report, indent=2) + "\n")
    print(render(report))
    return 0


def _run(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    vault = DevVault.start(_free_port(), scratch)
    fake = FakeJumpCloud()
    servers: list[Server] = []
    try:
        for name in ("a", "b"):
            server = Server(
                name,
                {
                    "VAULT_ADDR": vault.addr,
                    "VAULT_TOKEN": ROOT_TOKEN,
                    "CREDVAULT_VAULT_CREATE_MOUNT": "false",
                    "CREDVAULT_LISTEN": "127.0.0.1:0",
                    "CREDVAULT_PROVIDER_URLS": json.dumps({"jumpcloud": fake.url}),
                },
                scratch / name,
            )
            server.launch()
            servers.append(server)
        for server in servers:
            server.wait_listening()
        a, b = servers
        with Client.connect(a.address, tls=False) as admin:
            admin.create_connection(TENANT, "jumpcloud", {"api_key": api_key(0)}, connection_id="hot")
            drivers = _drivers(scratch, b.address, args.clients)
            throughput = _throughput(args, drivers)
            staleness = {change: _staleness(args, admin, b.address, fake, change) for change in CHANGES}
        return {
            "settings": {"duration": args.duration, "rounds": args.rounds, "samples": args.samples},
            "cpus": len(os.sched_getaffinity(0)),
            "throughput": throughput,
            "staleness_ms": staleness,
        }
    finally:
        for server in servers:
            server.stop()
        vault.stop()
        fake.stop()


Driver = Callable[[bool, int, float], dict[str, float]]
"""(cached, callers, seconds) -> {"calls", "seconds", "p50_us"}."""


def _drivers(scratch: Path, address: str, clients: set[str]) -> dict[str, Driver]:
    found: dict[str, Driver] = {}
    if "python" in clients:
        found["python"] = lambda cached, callers, seconds: _python(address, cached, callers, seconds)
    if "node" in clients and shutil.which("node") and (ROOT / "clients/node/node_modules").is_dir():
        found["node"] = lambda cached, callers, seconds: _subprocess(
            ["node", str(ROOT / "bench/client_cache.js")], address, cached, callers, seconds
        )
    elif "node" in clients:
        print("skipping Node.js: node or clients/node/node_modules missing", flush=True)
    if os.environ.get("NANGO_BASE_URL") and os.environ.get("NANGO_SECRET_KEY"):
        found["nango"] = lambda cached, callers, seconds: _nango(callers, seconds)
    binary = _build_go(scratch) if "go" in clients else None
    if binary is not None:
        found["go"] = lambda cached, callers, seconds: _subprocess(
            [str(binary)], address, cached, callers, seconds
        )
    return found


def _build_go(scratch: Path) -> Path | None:
    """The Go driver, built offline in GOPATH mode against Debian's Go packages (as the tests build)."""
    if not shutil.which("go") or not Path(DEBIAN_GOCODE, "src/google.golang.org/grpc").is_dir():
        print("skipping Go: go or Debian's Go gRPC sources missing", flush=True)
        return None
    gopath = scratch / "gopath"
    shutil.copytree(ROOT / "clients/go", gopath / "src" / GO_IMPORT_PATH)
    shutil.copytree(ROOT / "bench/client_cache_go", gopath / "src/credvault-bench-cache")
    binary = scratch / "client_cache_go"
    env = {**os.environ, "GOPATH": f"{gopath}:{DEBIAN_GOCODE}", "GO111MODULE": "off", "GOFLAGS": ""}
    subprocess.run(
        ["go", "build", "-o", str(binary), "credvault-bench-cache"], env=env, check=True, cwd=gopath
    )
    return binary


def _subprocess(
    command: list[str], address: str, cached: bool, callers: int, seconds: float
) -> dict[str, float]:
    argv = [address, TENANT, "hot", "1" if cached else "0", str(callers), str(seconds)]
    done = subprocess.run(command + argv, capture_output=True, text=True, check=True, timeout=seconds + 60)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _python(address: str, cached: bool, callers: int, seconds: float) -> dict[str, float]:
    with Client.connect(address, tls=False, cache_auth_headers=cached) as client:
        client.get_auth_headers(TENANT, "hot")
        latencies: list[list[int]] = [[] for _ in range(callers)]
        start = threading.Barrier(callers + 1)
        began = [0.0]

        def caller(mine: list[int]) -> None:
            start.wait()
            clock, get = time.perf_counter_ns, client.get_auth_headers
            until = clock() + int(seconds * 1e9)
            while (t := clock()) < until:
                get(TENANT, "hot")
                mine.append(clock() - t)

        threads = [threading.Thread(target=caller, args=(mine,)) for mine in latencies]
        for thread in threads:
            thread.start()
        began[0] = time.perf_counter()
        start.wait()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began[0]
    every = sorted(value for mine in latencies for value in mine)
    return {"calls": len(every), "seconds": elapsed, "p50_us": every[len(every) // 2] / 1000}


def _nango(callers: int, seconds: float) -> dict[str, float]:
    """Nango's credential fetch from `callers` threads, each on its own keep-alive connection."""
    url = urlsplit(os.environ["NANGO_BASE_URL"])
    connection = os.environ.get("NANGO_CONNECTION_ID", "bench-conn-1")
    config_key = os.environ.get("NANGO_PROVIDER_CONFIG_KEY", "jumpcloud")
    path = f"/connection/{connection}?provider_config_key={config_key}"
    headers = {"Authorization": f"Bearer {os.environ['NANGO_SECRET_KEY']}"}
    latencies: list[list[int]] = [[] for _ in range(callers)]

    def caller(mine: list[int]) -> None:
        http = HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=30)
        until = time.perf_counter_ns() + int(seconds * 1e9)
        while (t := time.perf_counter_ns()) < until:
            http.request("GET", path, headers=headers)
            response = http.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"Nango answered {response.status}")
            mine.append(time.perf_counter_ns() - t)
        http.close()

    began = time.perf_counter()
    threads = [threading.Thread(target=caller, args=(mine,)) for mine in latencies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = sorted(value for mine in latencies for value in mine)
    return {
        "calls": len(every),
        "seconds": time.perf_counter() - began,
        "p50_us": every[len(every) // 2] / 1000,
    }


def _throughput(args: argparse.Namespace, drivers: dict[str, Driver]) -> dict[str, Any]:
    runs: dict[str, list[dict[str, float]]] = {}
    for callers in (1, 8):
        for round_no in range(args.rounds):
            for language, driver in drivers.items():
                for cached in (False,) if language == "nango" else (False, True):
                    key = f"{language}/{'cached' if cached else 'uncached'}/{callers}"
                    print(f"round {round_no + 1}/{args.rounds}: {key}", flush=True)
                    runs.setdefault(key, []).append(driver(cached, callers, args.duration))
    return {
        key: {
            "calls_per_s": sum(r["calls"] for r in results) / sum(r["seconds"] for r in results),
            "p50_us": statistics.median(r["p50_us"] for r in results),
        }
        for key, results in runs.items()
    }


def _staleness(
    args: argparse.Namespace, admin: Client, address: str, fake: FakeJumpCloud, change: str
) -> dict[str, float]:
    print(f"staleness: {args.samples} x {change}", flush=True)
    waits: list[float] = []
    tenant = f"{TENANT}-{change}"
    with Client.connect(address, tls=False, cache_auth_headers=True) as cached:
        for sample in range(args.samples):
            connection_id = f"c{sample}"
            key = _accepted(fake)
            admin.create_connection(tenant, "jumpcloud", {"api_key": key}, connection_id=connection_id)
            assert _served(cached, tenant, connection_id) == key
            if change == "update":
                admin.update_connection(tenant, connection_id, credentials={"api_key": _accepted(fake)})
            elif change == "delete":
                admin.delete_connection(tenant, connection_id)
            else:
                fake.revoke(key)
                assert not admin.verify_connection(tenant, connection_id).outcome.ok
            acknowledged = time.perf_counter()
            while _served(cached, tenant, connection_id) == key:
                if time.perf_counter() - acknowledged > GIVE_UP:
                    raise RuntimeError(f"a {change} did not reach the cache within {GIVE_UP:.0f} s")
                time.sleep(0.0002)
            waits.append((time.perf_counter() - acknowledged) * 1000)
    waits.sort()
    return {
        "p50": waits[len(waits) // 2],
        "p99": waits[min(int(len(waits) * 0.99), len(waits) - 1)],
        "max": waits[-1],
        "samples": len(waits),
    }


def _accepted(fake: FakeJumpCloud) -> str:
    key = f"jca_{uuid.uuid4().hex}"
    fake.accept(key)
    return key


def _served(client: Client, tenant: str, connection_id: str) -> str:
    try:
        return client.get_auth_headers(tenant, connection_id).headers["x-api-key"]
    except CredvaultError as error:
        return error.code.name


def render(report: dict[str, Any]) -> str:
    lines = ["GetAuthHeaders through each client, cache off / on (calls/s, p50):", ""]
    lines.append(f"{'client':<8} {'callers':>7} {'uncached':>22} {'cached':>22} {'speed-up':>9}")
    throughput = report["throughput"]
    for language in LANGUAGES:
        for callers in (1, 8):
            off = throughput.get(f"{language}/uncached/{callers}")
            on = throughput.get(f"{language}/cached/{callers}")
            if off is None:
                continue
            speedup = f"{on['calls_per_s'] / off['calls_per_s']:>8.0f}x" if on else ""
            lines.append(
                f"{language:<8} {callers:>7} {_cell(off):>22} {_cell(on) if on else '':>22} {speedup}"
            )
    lines += ["", "Staleness, from the change's acknowledgement on A to the client on B (ms):", ""]
    lines.append(f"{'change':<11} {'p50':>7} {'p99':>7} {'max':>7} {'samples':>8}")
    for change, figures in report["staleness_ms"].items():
        lines.append(
            f"{change:<11} {figures['p50']:>7.0f} {figures['p99']:>7.0f} {figures['max']:>7.0f} "
            f"{figures['samples']:>8}"
        )
    return "\n".join(lines)


def _cell(figures: dict[str, float]) -> str:
    return f"{figures['calls_per_s']:,.0f}/s {figures['p50_us']:,.1f} µs"


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


if __name__ == "__main__":
    sys.exit(main())
