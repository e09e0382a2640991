"""A connection's whole life through the gRPC API, against real OpenBao and the JumpCloud fake."""

from __future__ import annotations

import uuid

import grpc
import pytest
from support import ORG, rich_details

from credvault.v1 import credvault_pb2 as pb


def create(stub, tenant: str, key: str, connection_id: str = "jc", **config: str) -> pb.Connection:
    return stub.CreateConnection(
        pb.CreateConnectionRequest(
            tenant_id=tenant,
            connection_id=connection_id,
            provider="jumpcloud",
            credentials={"api_key": key},
            config=config,
            labels={"team": "identity"},
        ),
        timeout=10,
    )


def test_list_providers_describes_fields(stub):
    providers = {p.id: p for p in stub.ListProviders(pb.ListProvidersRequest(), timeout=5).providers}
    jumpcloud = providers["jumpcloud"]
    fields = {f.name: f for f in jumpcloud.fields}
    assert fields["api_key"].secret and fields["api_key"].required
    assert fields["api_key"].location == pb.FIELD_LOCATION_CREDENTIALS
    assert not fields["org_id"].secret and not fields["org_id"].required
    assert fields["org_id"].location == pb.FIELD_LOCATION_CONFIG
    assert jumpcloud.auth_mode == "api_key_header" and jumpcloud.docs_url.startswith("https://")


def test_lifecycle(stub, tenant, key):
    created = create(stub, tenant, key)
    assert created.status == pb.CONNECTION_STATUS_ACTIVE
    assert created.last_outcome.ok and created.last_outcome.provider_http_status == 200
    assert created.labels == {"team": "identity"}
    assert key not in str(created)

    fetched = stub.GetConnection(pb.GetConnectionRequest(tenant_id=tenant, connection_id="jc"), timeout=5)
    assert fetched == created

    auth = stub.GetAuthHeaders(pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="jc"), timeout=5)
    assert auth.headers["x-api-key"] == key
    assert auth.headers["Accept"] == "application/json"
    assert "x-org-id" not in auth.headers
    assert auth.base_url.endswith("/api")

    verified = stub.VerifyConnection(
        pb.VerifyConnectionRequest(tenant_id=tenant, connection_id="jc"), timeout=10
    )
    assert verified.outcome.ok and verified.connection.status == pb.CONNECTION_STATUS_ACTIVE
    assert verified.connection.last_verified_at.ToDatetime() >= created.last_verified_at.ToDatetime()

    stub.DeleteConnection(pb.DeleteConnectionRequest(tenant_id=tenant, connection_id="jc"), timeout=5)
    with pytest.raises(grpc.RpcError) as missing:
        stub.GetAuthHeaders(pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="jc"), timeout=5)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


def test_server_makes_an_id_when_none_is_given(stub, tenant, key):
    created = create(stub, tenant, key, connection_id="")
    assert uuid.UUID(created.connection_id)


def test_delete_missing(stub, tenant):
    request = pb.DeleteConnectionRequest(tenant_id=tenant, connection_id="nope")
    with pytest.raises(grpc.RpcError) as missing:
        stub.DeleteConnection(request, timeout=5)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    request.allow_missing = True
    stub.DeleteConnection(request, timeout=5)


def test_create_twice_is_already_exists(stub, tenant, key):
    create(stub, tenant, key)
    with pytest.raises(grpc.RpcError) as again:
        create(stub, tenant, key)
    assert again.value.code() == grpc.StatusCode.ALREADY_EXISTS


def test_racing_creates_one_wins(stub, tenant, key):
    futures = [
        stub.CreateConnection.future(
            pb.CreateConnectionRequest(
                tenant_id=tenant, connection_id="race", provider="jumpcloud", credentials={"api_key": key}
            ),
            timeout=10,
        )
        for _ in range(8)
    ]
    codes = []
    for future in futures:
        try:
            future.result()
            codes.append(grpc.StatusCode.OK)
        except grpc.RpcError as error:
            codes.append(error.code())
    assert codes.count(grpc.StatusCode.OK) == 1
    assert codes.count(grpc.StatusCode.ALREADY_EXISTS) == 7


def test_multi_tenant_key_needs_org_id(stub, tenant, fakes):
    msp_key = f"jca_{uuid.uuid4().hex}"
    other = "60259a2ad81e1a474d4e7c84"
    fakes.jumpcloud.add_key(msp_key, orgs=[ORG, other])
    with pytest.raises(grpc.RpcError) as missing_org:
        create(stub, tenant, msp_key)
    assert missing_org.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert rich_details(missing_org.value)["ErrorInfo"].reason == "ORG_ID_REQUIRED"
    assert "org_id" in missing_org.value.details()

    with pytest.raises(grpc.RpcError) as wrong_org:
        create(stub, tenant, msp_key, org_id="aaaaaaaaaaaaaaaaaaaaaaaa")
    assert rich_details(wrong_org.value)["ErrorInfo"].reason == "ORG_NOT_FOUND"

    created = create(stub, tenant, msp_key, org_id=other)
    assert created.config == {"org_id": other}
    auth = stub.GetAuthHeaders(pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="jc"), timeout=5)
    assert auth.headers["x-org-id"] == other


def test_update_verifies_before_replacing(stub, tenant, key, fakes):
    create(stub, tenant, key)
    with pytest.raises(grpc.RpcError) as rejected:
        stub.UpdateConnection(
            pb.UpdateConnectionRequest(
                tenant_id=tenant, connection_id="jc", credentials={"api_key": "jca_not_a_key_the_fake_knows"}
            ),
            timeout=10,
        )
    assert rejected.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    auth = stub.GetAuthHeaders(pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="jc"), timeout=5)
    assert auth.headers["x-api-key"] == key

    new_key = f"jca_{uuid.uuid4().hex}"
    fakes.jumpcloud.add_key(new_key, orgs=[ORG])
    updated = stub.UpdateConnection(
        pb.UpdateConnectionRequest(tenant_id=tenant, connection_id="jc", credentials={"api_key": new_key}),
        timeout=10,
    )
    assert updated.status == pb.CONNECTION_STATUS_ACTIVE
    assert updated.labels == {"team": "identity"}
    auth = stub.GetAuthHeaders(pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="jc"), timeout=5)
    assert auth.headers["x-api-key"] == new_key


def test_update_labels_only_and_clear_with_mask(stub, tenant, key, fakes):
    create(stub, tenant, key)
    calls = len(fakes.jumpcloud.requests)
    updated = stub.UpdateConnection(
        pb.UpdateConnectionRequest(tenant_id=tenant, connection_id="jc", labels={"env": "prod"}), timeout=5
    )
    assert updated.labels == {"env": "prod"}
    assert len(fakes.jumpcloud.requests) == calls  # labels need no check with the provider
    request = pb.UpdateConnectionRequest(tenant_id=tenant, connection_id="jc")
    request.update_mask.paths.append("labels")
    assert stub.UpdateConnection(request, timeout=5).labels == {}


def test_revoked_key_is_recorded_and_stops_headers(stub, tenant, fakes):
    revocable = f"jca_{uuid.uuid4().hex}"
    fakes.jumpcloud.add_key(revocable, orgs=[ORG])
    create(stub, tenant, revocable)
    del fakes.jumpcloud.keys[revocable]

    result = stub.VerifyConnection(
        pb.VerifyConnectionRequest(tenant_id=tenant, connection_id="jc"), timeout=10
    )
    assert not result.outcome.ok
    assert result.outcome.reason == "CREDENTIALS_REJECTED"
    assert result.outcome.provider_http_status == 401
    assert "My API Key" in result.outcome.hint
    assert result.connection.status == pb.CONNECTION_STATUS_INVALID

    with pytest.raises(grpc.RpcError) as invalid:
        stub.GetAuthHeaders(pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="jc"), timeout=5)
    assert invalid.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert rich_details(invalid.value)["ErrorInfo"].reason == "CONNECTION_INVALID"

    fakes.jumpcloud.add_key(revocable, orgs=[ORG])
    again = stub.VerifyConnection(
        pb.VerifyConnectionRequest(tenant_id=tenant, connection_id="jc"), timeout=10
    )
    assert again.outcome.ok and again.connection.status == pb.CONNECTION_STATUS_ACTIVE


def test_list_pages_and_filters(stub, tenant, key, fakes):
    for index in range(5):
        create(stub, tenant, key, connection_id=f"c{index}")
    stub.CreateConnection(
        pb.CreateConnectionRequest(
            tenant_id=tenant,
            connection_id="ex",
            provider="example-bearer",
            credentials={"token": _example_token(fakes)},
        ),
        timeout=10,
    )
    seen, token = [], ""
    while True:
        page = stub.ListConnections(
            pb.ListConnectionsRequest(tenant_id=tenant, page_size=2, page_token=token), timeout=5
        )
        assert len(page.connections) <= 2
        seen += [c.connection_id for c in page.connections]
        token = page.next_page_token
        if not token:
            break
    assert seen == ["c0", "c1", "c2", "c3", "c4", "ex"]
    only = stub.ListConnections(
        pb.ListConnectionsRequest(tenant_id=tenant, provider="example-bearer"), timeout=5
    )
    assert [c.connection_id for c in only.connections] == ["ex"]

    with pytest.raises(grpc.RpcError) as bad_token:
        stub.ListConnections(pb.ListConnectionsRequest(tenant_id=tenant, page_token="garbage"), timeout=5)
    assert bad_token.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_third_party_plugin_works_end_to_end(stub, tenant, fakes):
    providers = {p.id for p in stub.ListProviders(pb.ListProvidersRequest(), timeout=5).providers}
    assert "example-bearer" in providers
    token = _example_token(fakes)
    stub.CreateConnection(
        pb.CreateConnectionRequest(
            tenant_id=tenant, connection_id="ex", provider="example-bearer", credentials={"token": token}
        ),
        timeout=10,
    )
    auth = stub.GetAuthHeaders(pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="ex"), timeout=5)
    assert auth.headers["Authorization"] == f"Bearer {token}"


def _example_token(fakes) -> str:
    token = f"ex_{uuid.uuid4().hex}"
    fakes.example.tokens.add(token)
    return token
