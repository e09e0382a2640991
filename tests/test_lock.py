"""requirements.lock, which the container image installs from: fresh for pyproject.toml, every package
pinned with hashes, the embedded OpenBao left out."""

from __future__ import annotations

import re
from pathlib import Path

from packaging.requirements import Requirement

from scripts.lock_inputs import LEFT_OUT, digest, name_of, requirements

LOCK = Path(__file__).parents[1] / "requirements.lock"
STALE = "requirements.lock is stale: run scripts/lock (it must follow pyproject.toml's dependencies)"


def pins() -> dict[str, str]:
    """Package name to pinned version, from the lock file."""
    found = re.findall(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", LOCK.read_text(), re.M)
    return {name_of(name): version for name, version in found}


def test_the_lock_file_was_made_from_the_current_dependencies():
    recorded = re.match(r"# inputs-sha256: ([0-9a-f]{64})\n", LOCK.read_text())
    assert recorded, STALE
    assert recorded.group(1) == digest(), STALE


def test_every_dependency_is_pinned_to_a_version_it_accepts():
    pinned = pins()
    for line in requirements():
        requirement = Requirement(line)
        name = name_of(requirement.name)
        assert name in pinned, f"{name} is not in requirements.lock: {STALE}"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"requirements.lock pins {name}=={pinned[name]}, outside {requirement.specifier}: {STALE}"
        )


def test_every_pin_has_hashes_and_the_embedded_openbao_is_left_out():
    text = LOCK.read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9._-]+==)", text.split("\n", 3)[-1])
    for entry in entries:
        if "==" in entry.split("\n", 1)[0]:
            assert "--hash=sha256:" in entry, f"no hash for {entry.split()[0]}"
    assert not LEFT_OUT & set(pins())
