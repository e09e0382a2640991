"""The soak harness (bench.soak) for one minute: mixed load must meet only expected status codes and
credvault's memory must stay flat. Deselect with `-m "not soak"`; run longer with `python -m bench.soak`."""

from __future__ import annotations

import json

import pytest

from bench import soak


@pytest.mark.soak
@pytest.mark.timeout(240)
def test_one_minute_soak():
    report = soak.run(duration=60, concurrency=6, sample=5)
    summary = {k: v for k, v in report.items() if k != "memory_mb"}
    print("\n" + json.dumps(summary, indent=1))
    assert report["unexpected_codes"] == {}
    assert report["calls"] > 0
    assert report["credvault_rss_growth_after_warmup_mb"] <= report["max_growth_mb"]
