"""The `atlassian-admin` provider (organization admin API key) through the gRPC API, against the fake
admin API."""

from __future__ import annotations

import uuid

import grpc
import pytest
from fakes.base import Response
from support import create_connection, refusal

from credvault.v1 import credvault_pb2 as pb

PROVIDER = "atlassian-admin"


def org() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def admin(fakes):
    return fakes.atlassian_admin


def create(stub, tenant, key, cid="c", **config):
    return create_connection(stub, tenant, PROVIDER, {"api_key": key}, config, cid)


def rejected(stub, tenant, key, **config):
    with pytest.raises(grpc.RpcError) as error:
        create(stub, tenant, key, cid="refused", **config)
    return refusal(error.value)


def test_schema(stub):
    providers = {p.id: p for p in stub.ListProviders(pb.ListProvidersRequest(), timeout=5).providers}
    spec = providers[PROVIDER]
    fields = {f.name: f for f in spec.fields}
    assert spec.auth_mode == "bearer" and "admin-apis" in spec.docs_url
    assert fields["api_key"].secret and fields["api_key"].required
    assert not fields["org_id"].secret and not fields["org_id"].required


def test_key_without_scopes_sees_its_org(stub, tenant, admin):
    only = org()
    key = admin.add_key([only])
    created = create(stub, tenant, key)
    assert created.status == pb.CONNECTION_STATUS_ACTIVE
    assert created.config == {"org_id": only}  # the one organization in sight is recorded
    assert admin.requests[-1].path == "/admin/v1/orgs"

    auth = stub.GetAuthHeaders(pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="c"), timeout=5)
    assert dict(auth.headers) == {"Authorization": f"Bearer {key}", "Accept": "application/json"}
    assert auth.base_url == admin.url and auth.base_url.endswith("/admin")


def test_org_id_must_be_among_the_orgs_the_key_sees(stub, tenant, admin):
    orgs = [org() for _ in range(5)]  # three pages of two
    key = admin.add_key(orgs)
    created = create(stub, tenant, key, org_id=orgs[4])
    assert created.config == {"org_id": orgs[4]}
    assert [r.query.get("cursor") for r in admin.requests[-3:]] == [None, "2", "4"]

    unrelated = org()
    refused = rejected(stub, tenant, key, org_id=unrelated)
    assert refused.code == grpc.StatusCode.FAILED_PRECONDITION
    assert refused.reason == "ORG_NOT_FOUND"
    assert all(o in refused.metadata["hint"] for o in orgs)


def test_key_seeing_several_orgs_records_none(stub, tenant, admin):
    created = create(stub, tenant, admin.add_key([org(), org()]))
    assert created.config == {}


def test_scoped_key_is_checked_against_its_org(stub, tenant, admin):
    mine = org()
    key = admin.add_key([mine], scopes={"read:orgs:admin", "read:directories:admin"})
    created = create(stub, tenant, key, org_id=mine)
    assert created.status == pb.CONNECTION_STATUS_ACTIVE
    assert [r.path for r in admin.requests[-2:]] == ["/admin/v1/orgs", f"/admin/v1/orgs/{mine}"]

    needs_org = rejected(stub, tenant, key)
    assert needs_org.reason == "ORG_ID_REQUIRED" and "admin.atlassian.com/o/" in needs_org.metadata["hint"]

    elsewhere = rejected(stub, tenant, key, org_id=org())
    assert elsewhere.reason == "ORG_NOT_FOUND" and elsewhere.metadata["provider_http_status"] == "404"


def test_scoped_key_without_the_org_scope(stub, tenant, admin):
    mine = org()
    key = admin.add_key([mine], scopes={"read:directories:admin"})
    refused = rejected(stub, tenant, key, org_id=mine)
    assert refused.reason == "INSUFFICIENT_SCOPE" and "read:orgs:admin" in refused.metadata["hint"]
    assert refused.metadata["provider_http_status"] == "401"


def test_bad_or_revoked_key(stub, tenant, admin):
    refused = rejected(stub, tenant, "ATCTT3xNotAKey")
    assert refused.code == grpc.StatusCode.FAILED_PRECONDITION
    assert refused.reason == "CREDENTIALS_REJECTED" and "Settings > API keys" in refused.metadata["hint"]

    key = admin.add_key([org()])
    create(stub, tenant, key)
    del admin.keys[key]
    result = stub.VerifyConnection(
        pb.VerifyConnectionRequest(tenant_id=tenant, connection_id="c"), timeout=10
    )
    assert result.outcome.reason == "CREDENTIALS_REJECTED"
    assert result.connection.status == pb.CONNECTION_STATUS_INVALID


def test_not_allowed_to_manage(stub, tenant, admin):
    key = admin.add_key([org()])
    admin.override(
        key,
        Response(
            403,
            {"errors": [{"status": "403", "code": "ADMIN-403-3", "title": "Not allowed to manage the org"}]},
        ),
    )
    refused = rejected(stub, tenant, key, org_id=org())
    assert refused.reason == "INSUFFICIENT_PERMISSIONS"


def test_rate_limit_without_retry_after_uses_the_reset_time(stub, tenant, admin):
    key = admin.add_key([org()])
    admin.override(
        key,
        Response(
            429,
            {"code": 429, "message": "Too Many Requests"},
            headers={"X-RateLimit-Reset": "2099-01-01T00:00Z"},
        ),
    )
    with pytest.raises(grpc.RpcError) as error:
        create(stub, tenant, key)
    refused = refusal(error.value)
    assert refused.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert refused.details["RetryInfo"].retry_delay.seconds > 0


def test_server_error_is_unavailable(stub, tenant, admin):
    key = admin.add_key([org()])
    admin.override(
        key, Response(500, {"errors": [{"status": "500", "code": "ADMIN-500-1", "title": "Internal error"}]})
    )
    with pytest.raises(grpc.RpcError) as error:
        create(stub, tenant, key)
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE
