"""What a newcomer meets first, besides the README's walk-through (tests/integration/test_readme.py):
`credvault serve --help` lists the settings, and a second server on a taken port fails at once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from credvault.config import from_env

ROOT = Path(__file__).parents[2]
CREDVAULT = [sys.executable, "-m", "credvault"]
VARIABLE = re.compile(r"(?:CREDVAULT|VAULT)_[A-Z_]+")


class Recorder(dict[str, str]):
    """An empty environment that notes every variable asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key, default=None):  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)


def read_settings() -> set[str]:
    """Every variable config.py reads: those from_env asks for, and those named in it as a literal."""
    recorder = Recorder()
    from_env(recorder)
    source = (ROOT / "server" / "credvault" / "config.py").read_text()
    named = set(re.findall(rf'"({VARIABLE.pattern})"', source))
    return {name for name in recorder.asked if VARIABLE.fullmatch(name)} | named


def test_serve_help_lists_every_setting_with_its_default():
    result = subprocess.run([*CREDVAULT, "serve", "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    listed = dict(re.findall(rf"^  ({VARIABLE.pattern}) = (.+)$", result.stdout, re.M))
    assert listed["CREDVAULT_LISTEN"] == "127.0.0.1:50051"
    missing = read_settings() - set(listed)
    assert not missing, f"add {sorted(missing)} to server/credvault/settings_help.py"


def test_a_second_server_on_a_taken_port_fails_at_once(server, tmp_path):
    """Before an embedded OpenBao starts (seconds, and a data directory left behind), with one line."""
    data = tmp_path / "data"
    env = {"CREDVAULT_LISTEN": server.address, "VAULT_ADDR": "", "CREDVAULT_DATA_DIR": str(data)}
    for command in ("serve", "sandbox"):
        result = subprocess.run(
            [*CREDVAULT, command], env={**os.environ, **env}, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 2
        assert result.stderr.splitlines() == [
            f"credvault: cannot listen on {server.address} (CREDVAULT_LISTEN): it is in use, perhaps by "
            "another credvault; stop it, or set CREDVAULT_LISTEN to another port (port 0 picks a free one)"
        ]
        assert result.stdout == ""
        assert not data.exists()
