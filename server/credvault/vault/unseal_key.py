"""Where the embedded OpenBao's unseal key lives: a file of its own, outside the data directory, so that
a copy or backup of the data directory alone opens nothing.

Earlier versions kept the key in `<data dir>/keys.json`; `UnsealKeyFile.load` moves it out on the first
start that finds it there (see docs/security.md).
"""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

from credvault.domain.errors import ConfigError

log = logging.getLogger(__name__)

LEGACY_FILE = "keys.json"
"""Where versions before CREDVAULT_UNSEAL_KEY_FILE kept the unseal key (and, half-way, the root token)."""


def default_key_file(data_dir: Path) -> Path:
    """Beside the data directory, never in it: `<data dir>.unseal-key`."""
    return data_dir.with_name(data_dir.name + ".unseal-key")


class UnsealKeyFile:
    """The unseal key file (owner-only) of one data directory."""

    def __init__(self, path: Path, data_dir: Path) -> None:
        resolved, data = path.resolve(), data_dir.resolve()
        if resolved == data or data in resolved.parents:
            raise ConfigError(
                f"CREDVAULT_UNSEAL_KEY_FILE ({path}) is inside the data directory {data_dir}: keep the key "
                "apart, so that a copy of the data directory opens nothing"
            )
        self.path = path
        self._data_dir = data_dir

    def load(self) -> str | None:
        """The key, moving it out of a legacy keys.json first; None when there is none yet."""
        legacy = self._data_dir / LEGACY_FILE
        if legacy.exists():
            self._migrate(legacy)
        if not self.path.exists():
            return None
        mode = self.path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"the unseal key file {self.path} may be read by others (mode {stat.filemode(mode)}); "
                f"run chmod 600 {self.path}"
            )
        key = self.path.read_text().strip()
        if not key:
            raise ConfigError(f"the unseal key file {self.path} is empty")
        return key

    def save(self, key: str) -> None:
        """Writes the key before anything is stored under it (a key lost is every credential lost)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private(self.path, key + "\n")

    def _migrate(self, legacy: Path) -> None:
        try:
            old_key = str(json.loads(legacy.read_text())["unseal_key"])
        except (ValueError, KeyError, TypeError):
            raise ConfigError(f"{legacy} is not a keys file credvault wrote; move it away") from None
        if self.path.exists():
            if self.path.read_text().strip() != old_key:
                raise ConfigError(
                    f"{legacy} and the unseal key file {self.path} hold different keys; keep the one that "
                    "unseals this data directory and remove the other"
                )
        else:
            self.save(old_key)
        legacy.unlink()
        log.warning(
            "moved the embedded OpenBao's unseal key out of the data directory to %s: back it up apart "
            "from %s",
            self.path,
            self._data_dir,
        )


def write_private(path: Path, text: str) -> None:
    """Writes a file only its owner can read, replacing any old one atomically."""
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
