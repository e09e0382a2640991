"""The client cache benchmark's harness still works (`python -m bench.client_cache --quick`, Python
client only, to stay short; the Node and Go drivers are built and run by the full benchmark). Nothing
here judges speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)
def test_quick_run_measures_the_cache_and_its_staleness(tmp_path):
    options = ["--quick", "--clients", "python", "--samples", "2", "--out", str(tmp_path)]
    run = subprocess.run(
        [sys.executable, "-m", "bench.client_cache", *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    report = json.loads((tmp_path / "client_cache.json").read_text())
    assert set(report["throughput"]) == {
        f"python/{mode}/{n}" for mode in ("cached", "uncached") for n in (1, 8)
    }
    assert all(figures["calls_per_s"] > 0 for figures in report["throughput"].values())
    assert {change: figures["samples"] for change, figures in report["staleness_ms"].items()} == {
        "update": 2,
        "delete": 2,
        "invalidate": 2,
    }
