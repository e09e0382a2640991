"""Secrets appear only in GetAuthHeaders responses: every installed provider's whole lifecycle, with the
server logging at DEBUG, leaves no credential (nor a header derived from one) in logs, error messages,
error details, Connection/ListConnections output, or the metrics endpoint.

Adding a provider is one entry in CASES: a function that makes credentials (and config) its fake accepts.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial

import grpc
import httpx
import pytest
from support import ORG, rich_details

from credvault.providers.registry import ProviderRegistry
from credvault.v1 import credvault_pb2 as pb

Make = Callable[..., tuple[dict[str, str], dict[str, str]]]


def _jumpcloud(fakes) -> tuple[dict[str, str], dict[str, str]]:
    key = f"jca_{uuid.uuid4().hex}"
    fakes.jumpcloud.add_key(key, orgs=[ORG])
    return {"api_key": key}, {}


def _example(fakes) -> tuple[dict[str, str], dict[str, str]]:
    token = f"ex_{uuid.uuid4().hex}"
    fakes.example.tokens.add(token)
    return {"token": token}, {}


def _example_query(fakes) -> tuple[dict[str, str], dict[str, str]]:
    key = f"exk_{uuid.uuid4().hex}"
    fakes.example.keys.add(key)
    return {"api_key": key}, {}


LEAK_SITE = "leak-test.atlassian.net"
LEAK_EMAIL = "leak-test@example.com"
LEAK_ORG = "0c0ffee0-0000-4000-8000-00000000a11c"


def _atlassian_account(fakes, scopes: set[str] | None) -> tuple[dict[str, str], dict[str, str]]:
    """A new token on every call, for the same account on the same site (so an update can swap them)."""
    if LEAK_SITE not in fakes.atlassian.sites:
        fakes.atlassian.add_account(fakes.atlassian.add_site(LEAK_SITE), LEAK_EMAIL)
    token = fakes.atlassian.add_token(LEAK_EMAIL, scopes=scopes)
    return {"email": LEAK_EMAIL, "api_token": token}, {"site": LEAK_SITE}


def _atlassian(fakes) -> tuple[dict[str, str], dict[str, str]]:
    return _atlassian_account(fakes, scopes=None)


def _atlassian_service_account(fakes) -> tuple[dict[str, str], dict[str, str]]:
    return _atlassian_account(fakes, scopes={"read:jira-user", "read:jira-work"})


def _atlassian_admin(fakes) -> tuple[dict[str, str], dict[str, str]]:
    return {"api_key": fakes.atlassian_admin.add_key(orgs=[LEAK_ORG])}, {}


def _jumpcloud_service_account(fakes) -> tuple[dict[str, str], dict[str, str]]:
    client_id, secret = fakes.jumpcloud_oauth.add_client(
        lambda token: fakes.jumpcloud.add_key(token, orgs=[ORG])
    )
    return {"client_id": client_id, "client_secret": secret}, {}


def _atlassian_service_account_oauth(fakes) -> tuple[dict[str, str], dict[str, str]]:
    _atlassian_account(fakes, scopes=None)  # the site and its member
    grant = partial(fakes.atlassian.add_token_value, LEAK_EMAIL, {"read:jira-user"})
    client_id, secret = fakes.atlassian_oauth.add_client(grant)
    return {"client_id": client_id, "client_secret": secret}, {"site": LEAK_SITE}


CASES: dict[str, Make] = {
    "jumpcloud": _jumpcloud,
    "example-bearer": _example,
    "example-query": _example_query,
    "atlassian": _atlassian,
    "atlassian-admin": _atlassian_admin,
    "atlassian-service-account": _atlassian_service_account,
    "atlassian-service-account-oauth": _atlassian_service_account_oauth,
    "jumpcloud-service-account": _jumpcloud_service_account,
}
"""provider id -> makes (credentials, config) that provider's fake accepts, fresh on every call."""

INSTALLED = [spec.id for spec in ProviderRegistry.discover({}).all()]


def _handed_out(auth: pb.GetAuthHeadersResponse) -> dict[str, str]:
    """The headers and query parameters GetAuthHeaders handed out."""
    return {**auth.headers, **{f"?{name}": value for name, value in auth.query_params.items()}}


class Seen:
    """Everything a client or operator sees apart from GetAuthHeaders responses."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def ok(self, message: object) -> None:
        self.texts.append(str(message))

    def failed(self, call: Callable[[], object], code: grpc.StatusCode) -> None:
        with pytest.raises(grpc.RpcError) as error:
            call()
        assert error.value.code() == code, error.value.details()
        self.texts += [error.value.details() or "", error.value.debug_error_string()]
        self.texts += [str(detail) for detail in rich_details(error.value).values()]


@pytest.mark.parametrize("provider", INSTALLED)
def test_lifecycle_leaks_no_secret(stub, server, fakes, tenant, provider):
    assert provider in {p.id for p in stub.ListProviders(pb.ListProvidersRequest(), timeout=5).providers}
    if provider not in CASES:
        pytest.skip(f"no fake for {provider} in tests/fakes yet: add it to CASES in {__name__}")
    make = CASES[provider]
    log_offset, out_offset = len(server.logs()), len(server.stdout())
    credentials, config = make(fakes)
    renewed, _ = make(fakes)
    rejected = {name: value[::-1] for name, value in credentials.items()}
    pasted = {name: value + "\n" for name, value in credentials.items()}
    seen = Seen()

    def create(creds: dict[str, str], connection_id: str = "c") -> pb.Connection:
        request = pb.CreateConnectionRequest(
            tenant_id=tenant, connection_id=connection_id, provider=provider, credentials=creds, config=config
        )
        return stub.CreateConnection(request, timeout=10)

    ids = {"tenant_id": tenant, "connection_id": "c"}
    seen.ok(create(credentials))
    seen.failed(lambda: create(credentials), grpc.StatusCode.ALREADY_EXISTS)
    seen.failed(lambda: create(rejected, "r"), grpc.StatusCode.FAILED_PRECONDITION)
    seen.failed(lambda: create(pasted, "p"), grpc.StatusCode.INVALID_ARGUMENT)
    seen.ok(stub.GetConnection(pb.GetConnectionRequest(**ids), timeout=5))
    seen.ok(stub.ListConnections(pb.ListConnectionsRequest(tenant_id=tenant), timeout=5))
    seen.ok(stub.VerifyConnection(pb.VerifyConnectionRequest(**ids), timeout=10))
    before = _handed_out(stub.GetAuthHeaders(pb.GetAuthHeadersRequest(**ids), timeout=5))
    seen.failed(
        lambda: stub.UpdateConnection(pb.UpdateConnectionRequest(**ids, credentials=rejected), timeout=10),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    seen.ok(stub.UpdateConnection(pb.UpdateConnectionRequest(**ids, credentials=renewed), timeout=10))
    after = _handed_out(stub.GetAuthHeaders(pb.GetAuthHeadersRequest(**ids), timeout=5))
    seen.ok(stub.ListConnections(pb.ListConnectionsRequest(tenant_id=tenant), timeout=5))
    seen.ok(stub.DeleteConnection(pb.DeleteConnectionRequest(**ids), timeout=5))
    seen.failed(
        lambda: stub.GetAuthHeaders(pb.GetAuthHeadersRequest(**ids), timeout=5), grpc.StatusCode.NOT_FOUND
    )

    # Header values that changed with the credentials are derived from them (e.g. Basic base64).
    derived = {value for name, value in before.items() if after.get(name) != value}
    derived |= {value for name, value in after.items() if before.get(name) != value}
    assert derived, "GetAuthHeaders should hand out something derived from the credentials"
    secrets = {*credentials.values(), *renewed.values(), *rejected.values(), *derived}
    secrets |= {value.strip() for value in pasted.values()}
    server_output = server.logs()[log_offset:] + server.stdout()[out_offset:]
    seen.ok(httpx.get(server.metrics_url, timeout=5).text)
    assert server_output.count('"level": "DEBUG"') + server_output.count('"level": "INFO"') > 0
    for secret in secrets:
        assert secret not in server_output, "a credential reached the server's logs"
        for text in seen.texts:
            assert secret not in text, f"a credential reached a client: {text[:200]}"
