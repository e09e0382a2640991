"""Chromium for the Connect page tests: Debian's browser driven by Playwright (never Playwright's own
browser download), axe-core's accessibility check, and a screenshot of every page a test looks at."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, Playwright
from support import unavailable

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""The background-networking flags keep Chromium from calling hosts this machine can't reach."""
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


def launch(playwright: Playwright) -> Browser:
    if not Path(CHROMIUM).exists():
        unavailable(f"missing {CHROMIUM} (Debian's chromium package; .ci/run installs it)")
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (WCAG 2.x A and AA rules and
    best practices). The script is evaluated over the DevTools protocol, which the page's CSP allows."""
    if not AXE.exists():
        unavailable("axe-core is not installed: run scripts/test (it runs npm ci in tests/)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await window.axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


class Screenshots:
    """Saves full-page screenshots under one folder: CREDVAULT_TEST_ARTIFACTS when set, else the test
    session's temporary folder."""

    def __init__(self, folder: Path) -> None:
        configured = os.environ.get("CREDVAULT_TEST_ARTIFACTS")
        self.folder = Path(configured) / "connect" if configured else folder
        self.folder.mkdir(parents=True, exist_ok=True)

    def take(self, page: Page, name: str) -> Path:
        path = self.folder / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
