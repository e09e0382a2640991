"""The `atlassian-service-account` provider (scoped tokens through api.atlassian.com/ex/...) through the
gRPC API, against the fake Atlassian Cloud (gateway and tenant_info)."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import pytest
from fakes.base import Response
from site_inputs import HOSTILE_SITES
from support import create_connection, refusal, violated_fields

from credvault.v1 import credvault_pb2 as pb

PROVIDER = "atlassian-service-account"
BOT = "reports-bot@serviceaccount.atlassian.com"
JIRA_SCOPES = {"read:jira-user", "read:jira-work"}


@pytest.fixture
def cloud(fakes):
    return fakes.atlassian


@pytest.fixture
def site(cloud):
    created = cloud.add_site(f"s{uuid.uuid4().hex[:12]}.atlassian.net")
    cloud.add_account(created, BOT)
    return created


@pytest.fixture
def token(cloud) -> str:
    return cloud.add_token(BOT, scopes=JIRA_SCOPES)


def create(stub, tenant, token, cid="c", email=BOT, **config):
    return create_connection(stub, tenant, PROVIDER, {"email": email, "api_token": token}, config, cid)


def rejected(stub, tenant, token, **config):
    with pytest.raises(grpc.RpcError) as error:
        create(stub, tenant, token, cid="refused", **config)
    return refusal(error.value)


def headers(stub, tenant, cid="c"):
    return stub.GetAuthHeaders(pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id=cid), timeout=5)


def test_schema(stub):
    providers = {p.id: p for p in stub.ListProviders(pb.ListProvidersRequest(), timeout=5).providers}
    spec = providers[PROVIDER]
    fields = {f.name: f for f in spec.fields}
    assert fields["email"].secret and fields["api_token"].secret
    assert {n for n, f in fields.items() if not f.secret} == {
        "cloud_id",
        "site",
        "product",
        "auth",
        "expires_at",
    }
    assert not any(fields[n].required for n in ("cloud_id", "site", "product", "auth", "expires_at"))
    assert "service-accounts" in spec.docs_url


def test_basic_auth_with_cloud_id(stub, server, tenant, cloud, site, token):
    created = create(stub, tenant, token, cloud_id=site.cloud_id.upper())
    assert created.config == {"cloud_id": site.cloud_id, "product": "jira", "auth": "basic"}
    assert cloud.requests[-1].path == f"/gateway/ex/jira/{site.cloud_id}/rest/api/3/myself"

    auth = headers(stub, tenant)
    expected = base64.b64encode(f"{BOT}:{token}".encode()).decode()
    assert dict(auth.headers) == {"Authorization": f"Basic {expected}", "Accept": "application/json"}
    assert auth.base_url == f"{cloud.url}/gateway/ex/jira/{site.cloud_id}"
    assert httpx.get(f"{auth.base_url}/rest/api/3/myself", headers=dict(auth.headers)).status_code == 200
    assert token not in server.logs() and expected not in server.logs()


def test_bearer_auth(stub, tenant, cloud, site, token):
    created = create(stub, tenant, token, cloud_id=site.cloud_id, auth="Bearer")
    assert created.config["auth"] == "bearer"
    assert dict(headers(stub, tenant).headers) == {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json",
    }


def test_site_is_resolved_to_a_cloud_id(stub, tenant, cloud, site, token):
    created = create(stub, tenant, token, site=f"https://{site.host}/jira/your-work", product="jira")
    assert created.config == {
        "site": site.host,
        "cloud_id": site.cloud_id,
        "product": "jira",
        "auth": "basic",
    }
    lookup, check = cloud.requests[-2:]
    assert lookup.path == f"/{site.host}/_edge/tenant_info"
    assert "authorization" not in lookup.headers  # nothing secret goes to the lookup
    assert check.path == f"/gateway/ex/jira/{site.cloud_id}/rest/api/3/myself"
    assert headers(stub, tenant).base_url.endswith(f"/gateway/ex/jira/{site.cloud_id}")

    calls = len(cloud.requests)
    stub.VerifyConnection(pb.VerifyConnectionRequest(tenant_id=tenant, connection_id="c"), timeout=10)
    assert len(cloud.requests) == calls + 1  # the stored cloud id: no second lookup


def test_unknown_site(stub, tenant, token):
    refused = rejected(stub, tenant, token, site=f"gone{uuid.uuid4().hex[:8]}")
    assert refused.code == grpc.StatusCode.FAILED_PRECONDITION
    assert refused.reason == "SITE_NOT_FOUND" and refused.metadata["provider_http_status"] == "404"


def test_organization_id_used_as_cloud_id(stub, tenant, token):
    refused = rejected(stub, tenant, token, cloud_id=str(uuid.uuid4()))
    assert refused.reason == "CLOUD_ID_NOT_FOUND" and refused.metadata["provider_http_status"] == "404"
    assert "organization ID" in refused.metadata["hint"] and "tenant_info" in refused.metadata["hint"]


def test_gateway_answering_401_for_an_unknown_cloud_id(stub, tenant, cloud, token):
    cloud.unknown_cloud_id = Response(401, {"code": 401, "message": "Unauthorized"})
    try:
        refused = rejected(stub, tenant, token, cloud_id=str(uuid.uuid4()))
    finally:
        cloud.unknown_cloud_id = Response(
            404, {"errorMessage": "Site temporarily unavailable", "errorCode": "OTHER"}
        )
    assert refused.reason == "CREDENTIALS_REJECTED" and "organization ID" in refused.metadata["hint"]


def test_expired_or_revoked_token(stub, tenant, cloud, site, token):
    refused = rejected(stub, tenant, "ATSTT3xRevokedLongAgo", cloud_id=site.cloud_id)
    assert refused.reason == "CREDENTIALS_REJECTED" and refused.metadata["provider_http_status"] == "401"
    assert "10 minutes" in refused.metadata["hint"]

    create(stub, tenant, token, cloud_id=site.cloud_id)
    del cloud.tokens[token]
    result = stub.VerifyConnection(
        pb.VerifyConnectionRequest(tenant_id=tenant, connection_id="c"), timeout=10
    )
    assert result.outcome.reason == "CREDENTIALS_REJECTED"
    assert result.connection.status == pb.CONNECTION_STATUS_INVALID


@pytest.mark.parametrize(
    ("product", "named"), [("jira", "read:jira-user"), ("confluence", "read:confluence-user")]
)
def test_missing_scopes_are_named(stub, tenant, cloud, site, product, named):
    narrow = cloud.add_token(BOT, scopes={"write:jira-work"})
    refused = rejected(stub, tenant, narrow, cloud_id=site.cloud_id, product=product)
    assert refused.reason == "INSUFFICIENT_SCOPE" and refused.metadata["provider_http_status"] == "401"
    assert named in refused.metadata["hint"]


def test_service_account_without_product_access(stub, tenant, cloud, site):
    cloud.add_account(site, "jira-only@serviceaccount.atlassian.com", products={"jira"})
    wiki_token = cloud.add_token("jira-only@serviceaccount.atlassian.com", scopes={"read:confluence-user"})
    refused = rejected(
        stub,
        tenant,
        wiki_token,
        email="jira-only@serviceaccount.atlassian.com",
        cloud_id=site.cloud_id,
        product="confluence",
    )
    assert refused.reason == "NO_PRODUCT_ACCESS" and refused.metadata["provider_http_status"] == "403"
    assert "Confluence" in refused.metadata["hint"]


def test_cloud_id_or_site_is_required(stub, tenant, cloud, token):
    before = len(cloud.requests)
    with pytest.raises(grpc.RpcError) as error:
        create(stub, tenant, token, product="jira")
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(error.value) == {"config.cloud_id"}
    assert len(cloud.requests) == before


@pytest.mark.parametrize("hostile", HOSTILE_SITES[:12])
def test_hostile_sites_are_refused_before_any_request(stub, tenant, cloud, token, hostile):
    before = len(cloud.requests)
    with pytest.raises(grpc.RpcError) as error:
        create(stub, tenant, token, site=hostile)
    assert violated_fields(error.value) == {"config.site"}
    assert len(cloud.requests) == before


@pytest.mark.parametrize("value", ["2020-13-45", "next year", "2999-01-01", "2026-02-30T10:00:00Z"])
def test_bad_expiry_values(stub, tenant, site, token, value):
    with pytest.raises(grpc.RpcError) as error:
        create(stub, tenant, token, cloud_id=site.cloud_id, expires_at=value)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(error.value) == {"config.expires_at"}


def test_token_already_expired_is_refused_without_a_call(stub, tenant, cloud, site, token):
    before = len(cloud.requests)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    refused = rejected(stub, tenant, token, cloud_id=site.cloud_id, expires_at=yesterday)
    assert refused.code == grpc.StatusCode.FAILED_PRECONDITION and refused.reason == "CREDENTIALS_EXPIRED"
    assert len(cloud.requests) == before


def test_expiry_is_kept_and_enforced(stub, tenant, cloud, site, token, openbao):
    in_30_days = (datetime.now(UTC) + timedelta(days=30)).date()
    created = create(stub, tenant, token, cloud_id=site.cloud_id, expires_at=in_30_days.isoformat())
    expected = datetime(in_30_days.year, in_30_days.month, in_30_days.day, tzinfo=UTC)
    assert created.expires_at.ToDatetime(UTC) == expected
    assert headers(stub, tenant).expires_at.ToDatetime(UTC) == expected

    _move_expiry_to_the_past(openbao, tenant, "c")
    fetched = stub.GetConnection(pb.GetConnectionRequest(tenant_id=tenant, connection_id="c"), timeout=5)
    assert fetched.status == pb.CONNECTION_STATUS_EXPIRED

    before = len(cloud.requests)
    result = stub.VerifyConnection(
        pb.VerifyConnectionRequest(tenant_id=tenant, connection_id="c"), timeout=10
    )
    assert result.connection.status == pb.CONNECTION_STATUS_EXPIRED
    assert not result.outcome.ok and result.outcome.reason == "CREDENTIALS_EXPIRED"
    assert len(cloud.requests) == before  # an expired token is not sent anywhere

    with pytest.raises(grpc.RpcError) as error:
        headers(stub, tenant)
    refused = refusal(error.value)
    assert refused.code == grpc.StatusCode.FAILED_PRECONDITION and refused.reason == "CREDENTIALS_EXPIRED"
    assert token not in refused.message


def test_rate_limited_gateway(stub, tenant, cloud, site, token):
    cloud.override(
        token, Response(429, {"code": 429, "message": "Too Many Requests"}, headers={"Retry-After": "30"})
    )
    with pytest.raises(grpc.RpcError) as error:
        create(stub, tenant, token, cloud_id=site.cloud_id)
    refused = refusal(error.value)
    assert refused.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert refused.details["RetryInfo"].retry_delay.seconds == 30


def test_tenant_info_outage_is_unavailable(stub, tenant, cloud, site, token):
    cloud.override(site.host, Response(503, "Service Unavailable"))
    with pytest.raises(grpc.RpcError) as error:
        create(stub, tenant, token, site=site.host)
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE


def _move_expiry_to_the_past(openbao, tenant: str, cid: str) -> None:
    """Ages a stored connection the way time would: its expires_at is set to an hour ago in Vault."""
    client = openbao.client()
    path = f"connections/{tenant}/{cid}"
    data = client.secrets.kv.v2.read_secret_version(
        path=path, mount_point="credvault", raise_on_deleted_version=True
    )["data"]["data"]
    data["connection"]["expires_at"] = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    client.secrets.kv.v2.create_or_update_secret(path=path, secret=data, mount_point="credvault")
