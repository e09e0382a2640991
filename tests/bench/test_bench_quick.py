"""The benchmark harness still works (`python -m bench --quick`). Nothing here judges speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = {
    "floor",
    "vault",
    "cold",
    "warm",
    "cold_large",
    "warm_large",
    "floor_workers",
    "warm_workers",
    "create",
}


@pytest.mark.timeout(300)
def test_quick_run_writes_results_and_chart(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    report = json.loads((tmp_path / "results.json").read_text())
    levels = report["settings"]["inflight"]
    assert set(report["scenarios"]) == {f"{name}@{level}" for name in SCENARIOS for level in levels}
    for key, result in report["scenarios"].items():
        assert result["calls"] > 0 and not result["errors"], key
    assert report["ratios"] and report["memory"]["warm_large_full_bytes"] > 0
    assert (tmp_path / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "warm throughput / floor throughput" in run.stdout
