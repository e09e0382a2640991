"""The documentation: the MkDocs site builds with --strict (no broken link, no page left out of the
nav, no missing snippet), and the README stays a short front page whose links lead somewhere."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"


def test_site_builds_strictly(tmp_path):
    mkdocs = Path(sys.executable).parent / "mkdocs"
    assert mkdocs.exists(), "mkdocs comes with the test extras (mkdocs-material)"
    result = subprocess.run(
        [
            str(mkdocs),
            "build",
            "--strict",
            "--config-file",
            str(ROOT / "mkdocs.yml"),
            "--site-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": str(mkdocs.parent)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    home = (tmp_path / "index.html").read_text()
    assert "CreateConnection" in home, "the home page includes the README's first session"
    assert (tmp_path / "security" / "index.html").exists()


def test_readme_is_a_short_front_page():
    text = README.read_text()
    assert len(text.splitlines()) < 200
    assert "scripts/test" in text and ".venv/bin/credvault serve" in text
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), f"README links to {target}, which does not exist"
