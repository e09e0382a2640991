"""The targets of issue 6 as ratios of one run, a text table, and the PNG chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MB = 1024 * 1024


def ratios(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    levels = report["settings"]["inflight"]
    low, high = levels[0], levels[-1]
    runs = report["scenarios"]

    def at(name: str, level: int) -> dict[str, Any]:
        result: dict[str, Any] = runs[f"{name}@{level}"]
        return result

    def item(value: float, bound: float, at_least: bool) -> dict[str, Any]:
        met = value >= bound if at_least else value <= bound
        return {"value": round(value, 3), "target": f"{'>=' if at_least else '<='} {bound}", "met": met}

    def share(a: float, b: float) -> float:
        return a / b if b else float("inf")

    found = {
        f"warm throughput / floor throughput @{high}": item(
            share(at("warm", high)["throughput"], at("floor", high)["throughput"]), 0.8, True
        ),
        f"warm throughput / raw-Vault throughput @{high}": item(
            share(at("warm", high)["throughput"], at("vault", high)["throughput"]), 3.0, True
        ),
    }
    for level in dict.fromkeys((low, high)):
        floor_and_vault = at("floor", level)["p50_ms"] + at("vault", level)["p50_ms"]
        found[f"cold p50 / (floor p50 + raw-Vault p50) @{level}"] = item(
            share(at("cold", level)["p50_ms"], floor_and_vault), 1.3, False
        )
    for level in dict.fromkeys((low, high)):
        for kind in ("cold", "warm"):
            found[f"{kind} p99 large / small store @{level}"] = item(
                share(at(f"{kind}_large", level)["p99_ms"], at(kind, level)["p99_ms"]), 1.2, False
            )
    workers = report["settings"]["workers"]
    for kind in ("floor", "warm"):
        found[f"{kind} throughput, {workers} workers / 1 worker @{high}"] = {
            "value": round(share(at(f"{kind}_workers", high)["throughput"], at(kind, high)["throughput"]), 3),
            "target": "scaling (information)",
            "met": None,
        }
    memory = report["memory"]
    extra = memory["cache_entries"] - memory["hot_entries"]
    per_entry = (memory["warm_large_full_bytes"] - memory["warm_large_hot_bytes"]) / extra if extra > 0 else 0
    found["resident MB, large store, full cache"] = {
        "value": round(memory["warm_large_full_bytes"] / MB, 1),
        "target": f"bounded by CREDVAULT_CACHE_SIZE ({memory['cache_entries']} entries here)",
        "met": None,
    }
    found["resident bytes per cache entry"] = {
        "value": round(per_entry),
        "target": "information",
        "met": None,
    }
    return found


def render(report: dict[str, Any]) -> str:
    lines = [
        f"{'scenario':<44} {'in-flight':>9} {'calls/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'srv µs/call':>11}"
        f" {'cli µs/call':>11}",
    ]
    for key, run in report["scenarios"].items():
        level = key.split("@")[1]
        server = run.get("server_cpu_us_per_call")
        lines.append(
            f"{run['label']:<44} {level:>9} {run['throughput']:>9.0f} {run['p50_ms']:>8.2f} "
            f"{run['p99_ms']:>8.2f} {'' if server is None else f'{server:.0f}':>11}"
            f" {run['client_cpu_us_per_call']:>11.0f}"
            + (f"  errors {run['errors']}" if run["errors"] else "")
        )
    seeding = report["seeding"]
    lines.append(
        f"seeding: {report['settings']['large']:,} connections in {seeding['large_s']:.1f} s "
        f"({seeding['large_writes_per_s']:,.0f}/s)"
    )
    lines.append("")
    for name, found in report["ratios"].items():
        verdict = {True: "met", False: "MISSED", None: ""}[found["met"]]
        lines.append(f"{name:<52} {found['value']:>10}  {found['target']:<28} {verdict}")
    return "\n".join(lines)


def chart(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = report["settings"]["inflight"]
    runs = report["scenarios"]
    names = list(dict.fromkeys(key.split("@")[0] for key in runs))
    labels = [runs[f"{name}@{levels[-1]}"]["label"] for name in names]
    figure, axes = plt.subplots(1, 1 + len(levels), figsize=(6 + 5 * len(levels), 5.5), sharey=True)
    positions = range(len(names))
    axes[0].barh(positions, [runs[f"{n}@{levels[-1]}"]["throughput"] for n in names], color="tab:blue")
    axes[0].set_title(f"throughput, {levels[-1]} in flight (calls/s)")
    axes[0].set_yticks(list(positions), labels)
    axes[0].invert_yaxis()
    for axis, level in zip(axes[1:], levels, strict=True):
        p50 = [runs[f"{n}@{level}"]["p50_ms"] for n in names]
        p99 = [runs[f"{n}@{level}"]["p99_ms"] for n in names]
        axis.barh([p - 0.2 for p in positions], p50, height=0.4, label="p50", color="tab:green")
        axis.barh([p + 0.2 for p in positions], p99, height=0.4, label="p99", color="tab:orange")
        axis.set_xscale("log")
        axis.set_title(f"latency, {level} in flight (ms, log)")
        axis.legend(loc="lower right")
    settings = report["settings"]
    figure.suptitle(
        f"credvault benchmark ({settings['cpus']} CPUs, shared machine; "
        f"{settings['small']:,} / {settings['large']:,} connections stored)"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
