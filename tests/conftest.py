"""Session fixtures: a real OpenBao (dev server, service logging in with AppRole under the shipped
policy), the fake provider APIs, and a real `credvault serve` on a free loopback port."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import hvac
import pytest
from credvault_client import Client

sys.path.insert(0, str(Path(__file__).parent))

from fakes.atlassian import FakeAtlassianCloud
from fakes.atlassian_admin import FakeAtlassianAdmin
from fakes.base import FakeAPI
from fakes.example import FakeExample
from fakes.jumpcloud import FakeJumpCloud
from fakes.oauth import FakeTokenEndpoint
from support import ORG, CredvaultProcess, free_port, start_openbao_dev

from credvault.v1 import credvault_pb2_grpc

ROOT_TOKEN = "root-token-for-tests"


@dataclass
class OpenBao:
    addr: str
    root_token: str
    role_id: str
    secret_id: str
    process: subprocess.Popen[bytes]

    def client(self) -> hvac.Client:
        return hvac.Client(url=self.addr, token=self.root_token)


@pytest.fixture(scope="session")
def openbao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBao]:
    yield from dev_openbao(tmp_path_factory)


def dev_openbao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBao]:
    """An OpenBao dev server set up as the docs say (KV v2 mount, the shipped policy, an AppRole)."""
    port = free_port()
    addr = f"http://127.0.0.1:{port}"
    log = open(tmp_path_factory.mktemp("openbao") / "openbao.log", "wb")  # noqa: SIM115
    process = start_openbao_dev(port, ROOT_TOKEN, log)
    root = hvac.Client(url=addr, token=ROOT_TOKEN)
    root.sys.enable_secrets_engine("kv", path="credvault", options={"version": "2"})
    policy = subprocess.run(
        [sys.executable, "-m", "credvault", "vault-policy"], check=True, capture_output=True, text=True
    ).stdout
    root.sys.create_or_update_policy("credvault", policy)
    root.sys.enable_auth_method("approle")
    root.auth.approle.create_or_update_approle("credvault", token_policies=["credvault"], token_ttl="1h")
    role_id = root.auth.approle.read_role_id("credvault")["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id("credvault")["data"]["secret_id"]
    yield OpenBao(addr, ROOT_TOKEN, role_id, secret_id, process)
    process.terminate()
    process.wait(timeout=15)
    log.close()


@dataclass
class Fakes:
    """One running fake per provider, by provider id."""

    jumpcloud: FakeJumpCloud
    example: FakeExample
    atlassian: FakeAtlassianCloud
    """Sites and the api.atlassian.com gateway (atlassian, atlassian-service-account)."""
    atlassian_admin: FakeAtlassianAdmin
    atlassian_oauth: FakeTokenEndpoint
    """auth.atlassian.com's token endpoint (client id and secret in the body; 401 invalid_client)."""
    jumpcloud_oauth: FakeTokenEndpoint
    """JumpCloud's admin-oauth token endpoint (HTTP basic, scope=api; 400 invalid_client)."""

    def by_provider(self) -> dict[str, FakeAPI]:
        return {
            "jumpcloud": self.jumpcloud,
            "example-bearer": self.example,
            "example-query": self.example,
            "atlassian": self.atlassian,
            "atlassian-service-account": self.atlassian,
            "atlassian-admin": self.atlassian_admin,
            "atlassian-service-account-oauth": self.atlassian,
            "jumpcloud-service-account": self.jumpcloud,
        }

    def all(self) -> list[FakeAPI]:
        return [
            self.jumpcloud,
            self.example,
            self.atlassian,
            self.atlassian_admin,
            self.atlassian_oauth,
            self.jumpcloud_oauth,
        ]

    def provider_urls(self) -> dict[str, str]:
        """CREDVAULT_PROVIDER_URLS pointing every provider (and named URL) at its fake."""
        return {
            "jumpcloud": self.jumpcloud.url,
            "example-bearer": self.example.url,
            "example-query": self.example.url,
            "atlassian-admin": self.atlassian_admin.url,
            "atlassian": self.atlassian.site_template,
            "atlassian-service-account": self.atlassian.gateway_template,
            "atlassian-service-account.tenant_info": self.atlassian.tenant_info_template,
            "atlassian-service-account-oauth": self.atlassian.gateway_template,
            "atlassian-service-account-oauth.tenant_info": self.atlassian.tenant_info_template,
            "atlassian-service-account-oauth:token": self.atlassian_oauth.token_url,
            "jumpcloud-service-account": self.jumpcloud.url,
            "jumpcloud-service-account:token": self.jumpcloud_oauth.token_url,
        }


@pytest.fixture(scope="session")
def fakes() -> Iterator[Fakes]:
    started = Fakes(
        jumpcloud=FakeJumpCloud().start(),
        example=FakeExample().start(),
        atlassian=FakeAtlassianCloud().start(),
        atlassian_admin=FakeAtlassianAdmin().start(),
        atlassian_oauth=FakeTokenEndpoint("/oauth/token", ("body",), reject_status=401).start(),
        jumpcloud_oauth=FakeTokenEndpoint(
            "/oauth2/token", ("basic",), reject_status=400, scope="api"
        ).start(),
    )
    yield started
    for fake in started.all():
        fake.stop()


def server_env(openbao: OpenBao, fakes: Fakes, **extra: str) -> dict[str, str]:
    return {
        "VAULT_ADDR": openbao.addr,
        "VAULT_ROLE_ID": openbao.role_id,
        "VAULT_SECRET_ID": openbao.secret_id,
        "CREDVAULT_VAULT_CREATE_MOUNT": "false",
        "CREDVAULT_LISTEN": "127.0.0.1:0",
        "CREDVAULT_PROVIDER_URLS": json.dumps(fakes.provider_urls()),
        "CREDVAULT_LOG_LEVEL": "DEBUG",
        "CREDVAULT_VERIFY_TIMEOUT": "3",
        "CREDVAULT_METRICS_LISTEN": "127.0.0.1:0",
        # Off unless a test turns them on: a scheduled check must not land in another test's counts.
        "CREDVAULT_RECHECK_INTERVAL": "0",
        "CREDVAULT_CONNECT_LISTEN": "127.0.0.1:0",
        **extra,
    }


@pytest.fixture(scope="session")
def server(
    openbao: OpenBao, fakes: Fakes, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CredvaultProcess]:
    process = CredvaultProcess(server_env(openbao, fakes), tmp_path_factory.mktemp("credvault")).start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def channel(server: CredvaultProcess) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.address) as channel:
        grpc.channel_ready_future(channel).result(timeout=30)
        yield channel


@pytest.fixture(scope="session")
def stub(channel: grpc.Channel) -> credvault_pb2_grpc.CredentialVaultStub:
    return credvault_pb2_grpc.CredentialVaultStub(channel)


@pytest.fixture(scope="session")
def client(server: CredvaultProcess) -> Iterator[Client]:
    """The Python client package (clients/python) on its own channel to the session server."""
    with Client.connect(server.address, tls=False) as client:
        yield client


@pytest.fixture
def key(fakes: Fakes) -> str:
    """A fresh JumpCloud API key the fake accepts, for one single-organization admin (of ORG)."""
    value = f"jca_{uuid.uuid4().hex}"
    fakes.jumpcloud.add_key(value, orgs=[ORG])
    return value


@pytest.fixture
def tenant() -> str:
    """A fresh tenant per test, so tests never see each other's connections."""
    return f"t-{uuid.uuid4().hex[:12]}"
