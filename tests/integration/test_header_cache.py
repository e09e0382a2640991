"""The header cache seen through the gRPC API: changes made through this server show at once; changes
made elsewhere (another replica, written straight into Vault here) show once the TTL has passed; an
entry never outlives the credentials' expiry. No test measures time: waits are polls with a timeout."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from conftest import server_env
from support import ORG, CredvaultProcess, rich_details

from credvault.polling import poll_until
from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc

MOUNT, PREFIX = "credvault", "connections"


@pytest.fixture(scope="module")
def long_ttl(openbao, fakes, tmp_path_factory) -> Iterator[credvault_pb2_grpc.CredentialVaultStub]:
    """A server whose cache keeps entries for an hour: what it serves after a change made elsewhere
    shows that the cache (and nothing else) answered."""
    yield from _stub(openbao, fakes, tmp_path_factory, CREDVAULT_CACHE_TTL="3600")


@pytest.fixture(scope="module")
def short_ttl(openbao, fakes, tmp_path_factory) -> Iterator[credvault_pb2_grpc.CredentialVaultStub]:
    yield from _stub(openbao, fakes, tmp_path_factory, CREDVAULT_CACHE_TTL="0.5")


def _stub(openbao, fakes, tmp_path_factory, **env: str) -> Iterator[credvault_pb2_grpc.CredentialVaultStub]:
    process = CredvaultProcess(server_env(openbao, fakes, **env), tmp_path_factory.mktemp("cache")).start()
    try:
        with grpc.insecure_channel(process.address) as channel:
            yield credvault_pb2_grpc.CredentialVaultStub(channel)
    finally:
        process.stop()


def create(stub, tenant: str, key: str) -> None:
    stub.CreateConnection(
        pb.CreateConnectionRequest(
            tenant_id=tenant, connection_id="jc", provider="jumpcloud", credentials={"api_key": key}
        ),
        timeout=10,
    )


def headers(stub, tenant: str) -> pb.GetAuthHeadersResponse:
    return stub.GetAuthHeaders(pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="jc"), timeout=5)


def change_in_vault(openbao, tenant: str, change: Callable[[dict], None]) -> None:
    """What another replica's write looks like to this one: the entry changes under it."""
    kv = openbao.client().secrets.kv.v2
    path = f"{PREFIX}/{tenant}/jc"
    entry = kv.read_secret_version(path=path, mount_point=MOUNT, raise_on_deleted_version=True)["data"][
        "data"
    ]
    change(entry)
    kv.create_or_update_secret(path=path, secret=entry, mount_point=MOUNT)


def eventually(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    return bool(poll_until(check, timeout))


def test_delete_drops_cached_headers_at_once(long_ttl, tenant, key):
    create(long_ttl, tenant, key)
    assert headers(long_ttl, tenant).headers["x-api-key"] == key
    long_ttl.DeleteConnection(pb.DeleteConnectionRequest(tenant_id=tenant, connection_id="jc"), timeout=5)
    with pytest.raises(grpc.RpcError) as caught:
        headers(long_ttl, tenant)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_update_replaces_cached_headers_at_once(long_ttl, tenant, key, fakes):
    create(long_ttl, tenant, key)
    assert headers(long_ttl, tenant).headers["x-api-key"] == key
    new_key = f"jca_{uuid.uuid4().hex}"
    fakes.jumpcloud.add_key(new_key, orgs=[ORG])
    long_ttl.UpdateConnection(
        pb.UpdateConnectionRequest(tenant_id=tenant, connection_id="jc", credentials={"api_key": new_key}),
        timeout=10,
    )
    assert headers(long_ttl, tenant).headers["x-api-key"] == new_key


def test_failed_verification_stops_cached_headers_at_once(long_ttl, tenant, key, fakes):
    create(long_ttl, tenant, key)
    headers(long_ttl, tenant)
    del fakes.jumpcloud.keys[key]
    verified = long_ttl.VerifyConnection(
        pb.VerifyConnectionRequest(tenant_id=tenant, connection_id="jc"), timeout=10
    )
    assert not verified.outcome.ok
    with pytest.raises(grpc.RpcError) as caught:
        headers(long_ttl, tenant)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert rich_details(caught.value)["ErrorInfo"].reason == "CONNECTION_INVALID"


def test_change_elsewhere_is_served_stale_until_the_ttl(long_ttl, openbao, tenant, key):
    create(long_ttl, tenant, key)
    headers(long_ttl, tenant)
    change_in_vault(openbao, tenant, lambda entry: entry["credentials"].update(api_key="jca_changed"))
    assert headers(long_ttl, tenant).headers["x-api-key"] == key


def test_change_elsewhere_shows_once_the_ttl_passed(short_ttl, openbao, tenant, key):
    create(short_ttl, tenant, key)
    headers(short_ttl, tenant)
    change_in_vault(openbao, tenant, lambda entry: entry["credentials"].update(api_key="jca_changed"))
    assert eventually(lambda: headers(short_ttl, tenant).headers["x-api-key"] == "jca_changed")


def test_cached_headers_never_outlive_the_credentials(long_ttl, openbao, tenant, key):
    create(long_ttl, tenant, key)
    expiry = datetime.now(UTC) + timedelta(seconds=5)
    change_in_vault(openbao, tenant, lambda entry: entry["connection"].update(expires_at=expiry.isoformat()))
    assert headers(long_ttl, tenant).HasField("expires_at")  # cached, with an expiry an hour short of the TTL

    def expired() -> bool:
        try:
            headers(long_ttl, tenant)
        except grpc.RpcError as error:
            return rich_details(error)["ErrorInfo"].reason == "CREDENTIALS_EXPIRED"
        return False

    assert eventually(expired)


def test_delete_elsewhere_shows_once_the_ttl_passed(short_ttl, openbao, tenant, key):
    create(short_ttl, tenant, key)
    headers(short_ttl, tenant)
    openbao.client().secrets.kv.v2.delete_metadata_and_all_versions(
        path=f"{PREFIX}/{tenant}/jc", mount_point=MOUNT
    )

    def gone() -> bool:
        try:
            headers(short_ttl, tenant)
        except grpc.RpcError as error:
            return error.code() == grpc.StatusCode.NOT_FOUND
        return False

    assert eventually(gone)
