"""Vault least privilege: the token the service gets under the shipped policy reaches only its own
prefix, and the service keeps working when its token expires (renewal, then a fresh AppRole login)."""

from __future__ import annotations

import asyncio
import time
import uuid

import grpc
import hvac
import hvac.exceptions
import pytest
from conftest import server_env
from support import ORG, CredvaultProcess

from credvault.config import VaultSettings
from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc as pb_grpc
from credvault.vault.store import VaultStore


@pytest.fixture(scope="module")
def service_client(openbao) -> hvac.Client:
    """A client holding the token credvault itself gets: AppRole, bound to the shipped policy."""
    client = hvac.Client(url=openbao.addr)
    client.auth.approle.login(role_id=openbao.role_id, secret_id=openbao.secret_id)
    root = openbao.client()
    if "other/" not in root.sys.list_mounted_secrets_engines()["data"]:
        root.sys.enable_secrets_engine("kv", path="other", options={"version": "2"})
    root.secrets.kv.v2.create_or_update_secret(path="x", secret={"k": "v"}, mount_point="other")
    root.secrets.kv.v2.create_or_update_secret(path="outside/x", secret={"k": "v"}, mount_point="credvault")
    return client


def test_policy_allows_its_own_prefix(service_client):
    kv = service_client.secrets.kv.v2
    path = f"connections/t-{uuid.uuid4().hex[:8]}/c"
    kv.create_or_update_secret(path=path, secret={"a": "b"}, cas=0, mount_point="credvault")
    assert kv.read_secret_version(path=path, mount_point="credvault", raise_on_deleted_version=True)
    kv.delete_metadata_and_all_versions(path=path, mount_point="credvault")


@pytest.mark.parametrize(
    "attempt",
    [
        lambda c: c.secrets.kv.v2.read_secret_version(
            path="outside/x", mount_point="credvault", raise_on_deleted_version=True
        ),
        lambda c: c.secrets.kv.v2.create_or_update_secret(
            path="outside/y", secret={}, mount_point="credvault"
        ),
        lambda c: c.secrets.kv.v2.list_secrets(path="", mount_point="credvault"),
        lambda c: c.secrets.kv.v2.read_secret_version(
            path="x", mount_point="other", raise_on_deleted_version=True
        ),
        lambda c: c.secrets.kv.v2.delete_metadata_and_all_versions(path="outside/x", mount_point="credvault"),
        lambda c: c.sys.read_policy("credvault"),
        lambda c: c.sys.create_or_update_policy("credvault", 'path "*" { capabilities = ["sudo"] }'),
        lambda c: c.sys.list_mounted_secrets_engines(),
        lambda c: c.sys.enable_secrets_engine("kv", path=f"p{uuid.uuid4().hex[:6]}"),
        lambda c: c.auth.token.create(policies=["root"]),
        lambda c: c.auth.approle.read_role_id("credvault"),
    ],
    ids=[
        "read-outside-prefix",
        "write-outside-prefix",
        "list-mount-root",
        "read-other-mount",
        "delete-outside-prefix",
        "read-policy",
        "write-policy",
        "list-mounts",
        "enable-mount",
        "create-token",
        "read-approle",
    ],
)
def test_policy_denies_everything_else(service_client, attempt):
    with pytest.raises(hvac.exceptions.Forbidden):
        attempt(service_client)


@pytest.fixture(scope="module")
def short_role(openbao) -> tuple[str, str]:
    """An AppRole under the shipped policy whose tokens live 2 s and can't be renewed past 3 s."""
    root = openbao.client()
    root.auth.approle.create_or_update_approle(
        "credvault-short", token_policies=["credvault"], token_ttl="2s", token_max_ttl="3s"
    )
    role_id = root.auth.approle.read_role_id("credvault-short")["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id("credvault-short")["data"]["secret_id"]
    return role_id, secret_id


def test_renewal_extends_the_token_and_logs_in_again_near_its_end(openbao, short_role):
    async def run() -> None:
        long_lived = VaultStore(
            VaultSettings(addr=openbao.addr, role_id=openbao.role_id, secret_id=openbao.secret_id)
        )
        short = VaultStore(VaultSettings(addr=openbao.addr, role_id=short_role[0], secret_id=short_role[1]))
        try:
            await long_lived.open()
            assert await long_lived.renew_token() > 60  # half of the role's 1 h, renewed
            await short.open()
            first = short._session.client.token
            assert 0 < await short.renew_token() <= 1.5  # renewal can't help any more: logged in again
            assert short._session.client.token != first
        finally:
            long_lived.close()
            short.close()

    asyncio.run(run())


def test_service_survives_its_token_expiring(openbao, fakes, short_role, tmp_path, tenant):
    env = server_env(openbao, fakes, VAULT_ROLE_ID=short_role[0], VAULT_SECRET_ID=short_role[1])
    process = CredvaultProcess(env, tmp_path).start()
    try:
        with grpc.insecure_channel(process.address) as channel:
            stub = pb_grpc.CredentialVaultStub(channel)
            key = f"jca_{uuid.uuid4().hex}"
            fakes.jumpcloud.add_key(key, orgs=[ORG])
            stub.CreateConnection(
                pb.CreateConnectionRequest(
                    tenant_id=tenant, connection_id="c", provider="jumpcloud", credentials={"api_key": key}
                ),
                timeout=10,
            )
            request = pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="c")
            for _ in range(4):  # across several token lifetimes (3 s at most each)
                time.sleep(1.5)
                assert stub.GetAuthHeaders(request, timeout=10).headers["x-api-key"] == key
        assert process.logs().count("logged in to Vault with AppRole") >= 2
        assert "denied credvault's token" not in process.logs()
    finally:
        process.stop()
