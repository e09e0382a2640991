"""The `jumpcloud` provider through the gRPC API, against the fake JumpCloud: v1 and v2 with the same
headers, multi-organization keys, and every failure mode (the lifecycle tests cover the basics)."""

from __future__ import annotations

import uuid

import grpc
import httpx
import pytest
from fakes.base import Response
from support import create_connection, refusal

from credvault.v1 import credvault_pb2 as pb

PROVIDER = "jumpcloud"
ORGS = ["60259a2ad81e1a474d4e7c83", "60259a2ad81e1a474d4e7c84", "60259a2ad81e1a474d4e7c85"]


@pytest.fixture
def jumpcloud(fakes):
    return fakes.jumpcloud


def new_key(jumpcloud, orgs, **kwargs) -> str:
    key = f"jca_{uuid.uuid4().hex}{uuid.uuid4().hex[:6]}"
    jumpcloud.add_key(key, orgs=orgs, **kwargs)
    return key


def create(stub, tenant, key, cid="c", **config):
    return create_connection(stub, tenant, PROVIDER, {"api_key": key}, config, cid)


def rejected(stub, tenant, key, **config):
    with pytest.raises(grpc.RpcError) as error:
        create(stub, tenant, key, cid="refused", **config)
    return refusal(error.value)


def test_v1_and_v2_with_the_same_headers(stub, tenant, jumpcloud):
    key = new_key(
        jumpcloud,
        ORGS,
    )
    create(stub, tenant, key, org_id=ORGS[1])
    auth = stub.GetAuthHeaders(pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="c"), timeout=5)
    assert dict(auth.headers) == {
        "x-api-key": key,
        "x-org-id": ORGS[1],
        "Accept": "application/json",
        "Content-Type": "application/json",
    }
    v1 = httpx.get(f"{auth.base_url}/systemusers", params={"limit": "1"}, headers=dict(auth.headers))
    v2 = httpx.get(f"{auth.base_url}/v2/usergroups", params={"limit": "1"}, headers=dict(auth.headers))
    assert v1.status_code == 200 and v1.json()["totalCount"] == 1
    assert v2.status_code == 200 and v2.headers["x-total-count"] == "1"


def test_wrong_org_id_names_the_orgs_the_key_manages(stub, tenant, jumpcloud):
    key = new_key(jumpcloud, ORGS)
    refused = rejected(stub, tenant, key, org_id="aaaaaaaaaaaaaaaaaaaaaaaa")
    assert refused.code == grpc.StatusCode.FAILED_PRECONDITION
    assert refused.reason == "ORG_NOT_FOUND" and refused.metadata["provider_http_status"] == "404"
    assert all(org in refused.metadata["hint"] for org in ORGS)
    listing = jumpcloud.requests[-1]
    assert listing.path == "/api/organizations" and "x-org-id" not in listing.headers


def test_org_id_is_checked_with_a_single_org_key_too(stub, tenant, jumpcloud):
    key = new_key(jumpcloud, ORGS[:1])
    assert create(stub, tenant, key, org_id=ORGS[0]).config == {"org_id": ORGS[0]}
    refused = rejected(stub, tenant, key, org_id=ORGS[2])
    assert refused.reason == "ORG_NOT_FOUND" and ORGS[0] in refused.metadata["hint"]


def test_malformed_org_id_is_invalid_argument(stub, tenant, jumpcloud):
    before = len(jumpcloud.requests)
    with pytest.raises(grpc.RpcError) as error:
        create(stub, tenant, new_key(jumpcloud, ORGS), org_id="acme-corp")
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert len(jumpcloud.requests) == before


def test_reset_key(stub, tenant):
    refused = rejected(stub, tenant, "jca_this_key_was_reset_yesterday_0000")
    assert refused.reason == "CREDENTIALS_REJECTED" and "My API Key" in refused.metadata["hint"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            {"code": 403, "message": "Forbidden: insufficient role", "status": "Forbidden"},
            "INSUFFICIENT_PERMISSIONS",
        ),
        ({"message": "403 Forbidden: Your IP has been blocked due to suspected abuse"}, "IP_BLOCKED"),
    ],
)
def test_forbidden(stub, tenant, jumpcloud, body, reason):
    key = new_key(jumpcloud, ORGS[:1])
    jumpcloud.override(key, Response(403, body))
    refused = rejected(stub, tenant, key)
    assert refused.reason == reason and refused.metadata["provider_http_status"] == "403"


def test_rate_limited(stub, tenant, jumpcloud):
    key = new_key(jumpcloud, ORGS[:1])
    jumpcloud.override(key, Response(429, {"message": "Too Many Requests"}, headers={"Retry-After": "5"}))
    with pytest.raises(grpc.RpcError) as error:
        create(stub, tenant, key)
    refused = refusal(error.value)
    assert refused.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert refused.details["RetryInfo"].retry_delay.seconds == 5


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_unavailable(stub, tenant, jumpcloud, status):
    key = new_key(jumpcloud, ORGS[:1])
    jumpcloud.override(key, Response(status, {"code": status, "message": "upstream", "status": "Error"}))
    with pytest.raises(grpc.RpcError) as error:
        create(stub, tenant, key)
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE
    assert refusal(error.value).reason == "PROVIDER_ERROR"


def test_eu_region_is_stored(stub, tenant, jumpcloud):
    created = create(stub, tenant, new_key(jumpcloud, ORGS[:1]), region=" EU ")
    assert created.config == {"region": "eu"}
    with pytest.raises(grpc.RpcError) as error:
        create(stub, tenant, new_key(jumpcloud, ORGS[:1]), cid="apac", region="apac")
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
