"""The contract's hygiene: `buf lint` with the rules buf.yaml keeps, and `buf breaking` against the last
released contract (contract/released.json, written by scripts/release-contract)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
RELEASED = ROOT / "contract/released.json"


def buf(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    path = shutil.which("buf", path=str(Path(sys.executable).parent)) or shutil.which("buf")
    assert path, "buf is installed by scripts/test (buf-bin)"
    return subprocess.run([path, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_buf_lint() -> None:
    result = buf("lint")
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_breaking_change_since_the_last_release() -> None:
    if not RELEASED.exists():
        pytest.skip("no released contract yet: scripts/release-contract records one at the first release")
    result = buf("breaking", "--against", str(RELEASED))
    assert result.returncode == 0, result.stdout + result.stderr


def test_buf_breaking_catches_a_removed_field(tmp_path: Path) -> None:
    """The check above is wired the way it will run: a release recorded as scripts/release-contract does,
    then a change that removes a field, which clients built against the release would break on."""
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "protos", tree / "protos")
    shutil.copy(ROOT / "buf.yaml", tree / "buf.yaml")
    shutil.copytree(ROOT / "scripts", tree / "scripts")
    release = subprocess.run(
        [str(tree / "scripts/release-contract")],
        env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert release.returncode == 0, release.stderr
    assert buf("breaking", "--against", "contract/released.json", cwd=tree).returncode == 0

    proto = tree / "protos/credvault/v1/credvault.proto"
    proto.write_text(proto.read_text().replace("  bool allow_missing = 3;\n", ""))
    broken = buf("breaking", "--against", "contract/released.json", cwd=tree)
    assert broken.returncode != 0
    assert "allow_missing" in broken.stdout + broken.stderr
