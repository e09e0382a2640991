"""The `atlassian` provider (Jira/Confluence basic auth on the site) through the gRPC API, against the
fake Atlassian Cloud."""

from __future__ import annotations

import base64
import uuid

import grpc
import httpx
import pytest
from fakes.base import Response
from site_inputs import HOSTILE_SITES, PASTED_FORMS
from support import create_connection, refusal, violated_fields

from credvault.v1 import credvault_pb2 as pb

PROVIDER = "atlassian"


@pytest.fixture
def cloud(fakes):
    return fakes.atlassian


@pytest.fixture
def site(cloud):
    """A fresh site with Jira and Confluence and one member, mia@example.com."""
    created = cloud.add_site(f"s{uuid.uuid4().hex[:12]}.atlassian.net")
    cloud.add_account(created, "mia@example.com")
    return created


@pytest.fixture
def token(cloud) -> str:
    return cloud.add_token("mia@example.com")


def create(stub, tenant, token, site, email="mia@example.com", cid="c", **config):
    return create_connection(
        stub, tenant, PROVIDER, {"email": email, "api_token": token}, {"site": site, **config}, cid
    )


def rejected(stub, tenant, token, site, **kwargs):
    with pytest.raises(grpc.RpcError) as error:
        create(stub, tenant, token, site, **{"cid": "refused", **kwargs})
    return refusal(error.value)


def test_schema(stub):
    providers = {p.id: p for p in stub.ListProviders(pb.ListProvidersRequest(), timeout=5).providers}
    spec = providers[PROVIDER]
    fields = {f.name: f for f in spec.fields}
    assert spec.auth_mode == "basic" and spec.docs_url.startswith("https://support.atlassian.com/")
    assert fields["email"].secret and fields["api_token"].secret and fields["api_token"].required
    assert not fields["site"].secret and fields["site"].required
    assert fields["site"].location == pb.FIELD_LOCATION_CONFIG
    assert not fields["product"].required
    assert all(f.label and f.description and f.example for f in spec.fields)


def test_connect_and_use_the_headers(stub, server, tenant, cloud, site, token):
    created = create(stub, tenant, token, f"https://{site.host}/jira/software/projects/OPS/boards/1")
    assert created.status == pb.CONNECTION_STATUS_ACTIVE
    assert created.config == {"site": site.host, "product": "jira"}
    assert token not in str(created)
    assert cloud.requests[-1].path == f"/{site.host}/rest/api/3/myself"

    auth = stub.GetAuthHeaders(pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="c"), timeout=5)
    expected = base64.b64encode(f"mia@example.com:{token}".encode()).decode()
    assert dict(auth.headers) == {"Authorization": f"Basic {expected}", "Accept": "application/json"}
    assert auth.base_url == f"{cloud.url}/{site.host}"
    for path in ("/rest/api/3/myself", "/wiki/rest/api/user/current"):  # one connection, both products
        assert httpx.get(auth.base_url + path, headers=dict(auth.headers)).status_code == 200
    assert token not in server.logs() and expected not in server.logs()


@pytest.mark.parametrize("form", PASTED_FORMS)
def test_what_people_paste_is_normalised(stub, tenant, cloud, token, form):
    name = f"p{uuid.uuid4().hex[:10]}"
    cloud.add_account(cloud.add_site(f"{name}.atlassian.net"), "mia@example.com")
    created = create(stub, tenant, token, form.format(name=name, NAME=name.upper()))
    assert created.config["site"] == f"{name}.atlassian.net"


@pytest.mark.parametrize("hostile", HOSTILE_SITES)
def test_hostile_sites_are_refused_before_any_request(stub, tenant, cloud, token, hostile):
    before = len(cloud.requests)
    with pytest.raises(grpc.RpcError) as error:
        create(stub, tenant, token, hostile)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(error.value) == {"config.site"}
    assert hostile.strip() not in error.value.details()
    assert len(cloud.requests) == before


def test_confluence_only_site_falls_back_to_confluence(stub, tenant, cloud, token):
    wiki = cloud.add_site(f"w{uuid.uuid4().hex[:10]}.atlassian.net", products={"confluence"})
    cloud.add_account(wiki, "mia@example.com")
    created = create(stub, tenant, token, wiki.host)
    assert created.config["product"] == "confluence"
    assert cloud.requests[-1].path == f"/{wiki.host}/wiki/rest/api/user/current"

    calls = len(cloud.requests)
    verified = stub.VerifyConnection(
        pb.VerifyConnectionRequest(tenant_id=tenant, connection_id="c"), timeout=10
    )
    assert verified.outcome.ok and len(cloud.requests) == calls + 1  # the stored product: one call

    missing = rejected(stub, tenant, token, wiki.host, product="JIRA", cid="jira")
    assert missing.code == grpc.StatusCode.FAILED_PRECONDITION
    assert missing.reason == "PRODUCT_NOT_FOUND" and "confluence" in missing.metadata["hint"]


def test_wrong_or_revoked_token(stub, tenant, cloud, site, token):
    wrong = rejected(stub, tenant, "ATATT3xNotAValidToken", site.host)
    assert wrong.code == grpc.StatusCode.FAILED_PRECONDITION
    assert wrong.reason == "CREDENTIALS_REJECTED"
    assert wrong.metadata["provider_http_status"] == "401"
    assert "id.atlassian.com/manage-profile/security/api-tokens" in wrong.metadata["hint"]
    assert "ATATT3xNotAValidToken" not in wrong.message

    other_email = rejected(stub, tenant, token, site.host, email="someone@example.com")
    assert other_email.reason == "CREDENTIALS_REJECTED"

    create(stub, tenant, token, site.host)
    del cloud.tokens[token]
    result = stub.VerifyConnection(
        pb.VerifyConnectionRequest(tenant_id=tenant, connection_id="c"), timeout=10
    )
    assert not result.outcome.ok and result.outcome.reason == "CREDENTIALS_REJECTED"
    assert result.connection.status == pb.CONNECTION_STATUS_INVALID


def test_scoped_token_on_the_site_points_to_the_service_account_provider(stub, tenant, cloud, site):
    scoped = cloud.add_token("mia@example.com", scopes={"read:jira-user"})
    refused = rejected(stub, tenant, scoped, site.host)
    assert refused.reason == "CREDENTIALS_REJECTED"
    assert "atlassian-service-account" in refused.metadata["hint"]


def test_account_password_instead_of_token(stub, tenant, cloud, site):
    cloud.passwords["mia@example.com"] = "hunter2-password"
    refused = rejected(stub, tenant, "hunter2-password", site.host)
    assert refused.reason == "PASSWORD_NOT_TOKEN" and "API token" in refused.metadata["hint"]


def test_captcha(stub, tenant, cloud, site):
    cloud.add_account(site, "locked@example.com")
    cloud.captcha.add("locked@example.com")
    refused = rejected(
        stub, tenant, cloud.add_token("locked@example.com"), site.host, email="locked@example.com"
    )
    assert refused.reason == "CAPTCHA_REQUIRED"
    assert refused.metadata["provider_http_status"] == "403"
    assert "CAPTCHA" in refused.metadata["hint"]


def test_no_product_access(stub, tenant, cloud, site):
    cloud.add_account(site, "guest@example.com", products={"jira"})
    refused = rejected(
        stub,
        tenant,
        cloud.add_token("guest@example.com"),
        site.host,
        email="guest@example.com",
        product="confluence",
    )
    assert refused.reason == "NO_PRODUCT_ACCESS" and "Confluence" in refused.metadata["hint"]


def test_site_without_jira_or_confluence(stub, tenant, cloud, token):
    bare = cloud.add_site(f"b{uuid.uuid4().hex[:10]}.atlassian.net", products=set())
    refused = rejected(stub, tenant, token, bare.host)
    assert refused.reason == "PRODUCT_NOT_FOUND" and "Neither" in refused.metadata["hint"]


def test_unknown_site(stub, tenant, token):
    refused = rejected(stub, tenant, token, f"gone{uuid.uuid4().hex[:8]}")
    assert refused.code == grpc.StatusCode.FAILED_PRECONDITION
    assert refused.reason == "SITE_NOT_FOUND" and refused.metadata["provider_http_status"] == "404"


def test_rate_limited(stub, tenant, cloud, site, token):
    cloud.override(
        token,
        Response(
            429,
            {
                "errorMessages": ["The request has been rate-limited. Please try again later."],
                "errors": {},
                "status": 429,
            },
            headers={"Retry-After": "17", "X-RateLimit-Limit": "100", "RateLimit-Reason": "jira-burst-based"},
        ),
    )
    with pytest.raises(grpc.RpcError) as error:
        create(stub, tenant, token, site.host)
    refused = refusal(error.value)
    assert refused.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert refused.details["RetryInfo"].retry_delay.seconds == 17


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (Response(503, {"errorMessages": ["Service unavailable"], "errors": {}}), "PROVIDER_ERROR"),
        (Response(500, {"errorMessages": ["Internal server error"], "errors": {}}), "PROVIDER_ERROR"),
        (Response(200, drop=True), "PROVIDER_UNREACHABLE"),
        (Response(200, {}, delay=4.0), "PROVIDER_TIMEOUT"),
    ],
)
def test_outages_are_unavailable(stub, tenant, cloud, site, token, answer, reason):
    cloud.override(token, answer)
    with pytest.raises(grpc.RpcError) as error:
        create(stub, tenant, token, site.host)
    refused = refusal(error.value)
    assert refused.code == grpc.StatusCode.UNAVAILABLE
    assert refused.reason == reason and refused.metadata["provider"] == PROVIDER


def test_redirects_are_not_followed_with_credentials(stub, tenant, cloud, site, token):
    cloud.override(token, Response(302, None, headers={"Location": f"{cloud.url}/elsewhere/collect"}))
    refused = rejected(stub, tenant, token, site.host)
    assert refused.reason == "UNEXPECTED_REDIRECT"
    assert not [r for r in cloud.requests if r.path.startswith("/elsewhere")]
