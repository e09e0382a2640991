"""OAuth 2.0 client credentials through the gRPC API: atlassian-service-account-oauth and
jumpcloud-service-account against local token endpoints that answer as
shared/providers/oauth-client-credentials.md records (tests/fakes/oauth.py), reached through
`CREDVAULT_PROVIDER_URLS["<provider id>:token"]`."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import grpc
import pytest
from fakes.base import Response
from support import ORG, rich_details

from credvault.v1 import credvault_pb2 as pb

SCOPES = {"read:jira-user"}


def _site(fakes) -> tuple[str, str]:
    """A new Atlassian site with one service account on it: (site host, account email)."""
    host = f"oauth-{uuid.uuid4().hex[:10]}.atlassian.net"
    email = f"bot-{uuid.uuid4().hex[:6]}@serviceaccount.atlassian.com"
    fakes.atlassian.add_account(fakes.atlassian.add_site(host), email)
    return host, email


def _create(stub, tenant: str, provider: str, credentials: dict[str, str], **config: str) -> pb.Connection:
    return stub.CreateConnection(
        pb.CreateConnectionRequest(
            tenant_id=tenant, connection_id="c", provider=provider, credentials=credentials, config=config
        ),
        timeout=10,
    )


def _headers(stub, tenant: str) -> pb.GetAuthHeadersResponse:
    return stub.GetAuthHeaders(pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="c"), timeout=10)


def test_jumpcloud_service_account_mints_once_and_hands_out_the_token(stub, fakes, tenant):
    tokens: list[str] = []

    def grant(token: str) -> None:
        tokens.append(token)
        fakes.jumpcloud.add_key(token, orgs=[ORG])

    client_id, secret = fakes.jumpcloud_oauth.add_client(grant)
    created = _create(
        stub, tenant, "jumpcloud-service-account", {"client_id": client_id, "client_secret": secret}
    )
    assert created.status == pb.CONNECTION_STATUS_ACTIVE and created.last_outcome.ok
    assert fakes.jumpcloud_oauth.mints_for(client_id) == 1, "CreateConnection mints and makes the test call"
    assert secret not in str(created) and tokens[0] not in str(created)

    mint = next(
        r for r in fakes.jumpcloud_oauth.requests if r.headers.get("authorization", "").startswith("Basic")
    )
    form = dict(parse_qsl(mint.body.decode()))
    assert form == {"grant_type": "client_credentials", "scope": "api"}, "JumpCloud: basic auth, scope=api"
    checked = [r for r in fakes.jumpcloud.requests if r.headers.get("authorization") == f"Bearer {tokens[0]}"]
    assert checked and checked[0].path == "/api/systemusers"

    auth = _headers(stub, tenant)
    assert auth.headers["Authorization"] == f"Bearer {tokens[0]}" and "x-api-key" not in auth.headers
    assert auth.headers["Accept"] == "application/json" and auth.base_url.endswith("/api")
    expires = auth.expires_at.ToDatetime(tzinfo=UTC)
    assert datetime.now(UTC) + timedelta(minutes=50) < expires <= datetime.now(UTC) + timedelta(hours=1)
    for _ in range(5):
        assert _headers(stub, tenant).headers["Authorization"] == f"Bearer {tokens[0]}"
    assert fakes.jumpcloud_oauth.mints_for(client_id) == 1, "the token is reused until it is due"

    fetched = stub.GetConnection(pb.GetConnectionRequest(tenant_id=tenant, connection_id="c"), timeout=5)
    assert tokens[0] not in str(fetched) and secret not in str(fetched)


def test_atlassian_oauth_sends_the_secret_in_the_body_and_resolves_the_cloud_id(stub, fakes, tenant):
    host, email = _site(fakes)
    tokens: list[str] = []

    def grant(token: str) -> None:
        tokens.append(token)
        fakes.atlassian.add_token_value(email, SCOPES, token)

    client_id, secret = fakes.atlassian_oauth.add_client(grant, expires_in="3600")
    created = _create(
        stub,
        tenant,
        "atlassian-service-account-oauth",
        {"client_id": client_id, "client_secret": secret},
        site=host,
    )
    cloud_id = fakes.atlassian.sites[host].cloud_id
    assert created.status == pb.CONNECTION_STATUS_ACTIVE and created.config["cloud_id"] == cloud_id
    assert "auth" not in created.config
    mint = [r for r in fakes.atlassian_oauth.requests if client_id in r.body.decode()][-1]
    form = dict(parse_qsl(mint.body.decode()))
    assert form == {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    assert "authorization" not in mint.headers

    auth = _headers(stub, tenant)
    assert auth.headers["Authorization"] == f"Bearer {tokens[-1]}"
    assert auth.base_url.endswith(f"/gateway/ex/jira/{cloud_id}")
    assert auth.expires_at.ToDatetime(tzinfo=UTC) > datetime.now(UTC) + timedelta(minutes=50)


@pytest.mark.parametrize("provider", ["jumpcloud-service-account", "atlassian-service-account-oauth"])
def test_a_wrong_client_secret_is_told_apart_from_a_missing_permission(stub, fakes, tenant, provider):
    host, email = _site(fakes)
    if provider == "jumpcloud-service-account":
        endpoint, config = fakes.jumpcloud_oauth, {}
        weak = endpoint.add_client(lambda t: fakes.jumpcloud.add_key(t, orgs=[ORG], can_read_users=False))
        weak_reason, weak_words = "INSUFFICIENT_PERMISSIONS", "role"
    else:
        endpoint, config = fakes.atlassian_oauth, {"site": host}
        weak = endpoint.add_client(lambda t: fakes.atlassian.add_token_value(email, {"read:jira-work"}, t))
        weak_reason, weak_words = "INSUFFICIENT_SCOPE", "scopes"
    client_id, _ = endpoint.add_client(lambda t: None)
    wrong = "secret-" + uuid.uuid4().hex
    with pytest.raises(grpc.RpcError) as error:
        _create(stub, tenant, provider, {"client_id": client_id, "client_secret": wrong}, **config)
    details = rich_details(error.value)
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = details["ErrorInfo"]
    assert info.reason == "CREDENTIALS_REJECTED" and "client ID and secret" in info.metadata["hint"]
    assert wrong not in error.value.details() and wrong not in str(details)

    with pytest.raises(grpc.RpcError) as error:
        _create(stub, tenant, provider, {"client_id": weak[0], "client_secret": weak[1]}, **config)
    details = rich_details(error.value)
    assert details["ErrorInfo"].reason == weak_reason and weak_words in details["ErrorInfo"].metadata["hint"]


def test_a_revoked_secret_makes_the_connection_invalid(stub, fakes, tenant):
    """The token expires quickly (expires_in 2 s), so GetAuthHeaders soon mints again with the stored
    secret, which the endpoint no longer accepts: the connection reads INVALID, like a rejected key."""
    client_id, secret = fakes.jumpcloud_oauth.add_client(
        lambda t: fakes.jumpcloud.add_key(t, orgs=[ORG]), expires_in=2
    )
    _create(stub, tenant, "jumpcloud-service-account", {"client_id": client_id, "client_secret": secret})
    fakes.jumpcloud_oauth.clients[client_id].secret = "rotated-" + uuid.uuid4().hex
    error = _poll_headers_until_refused(stub, tenant)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert rich_details(error)["ErrorInfo"].reason == "CONNECTION_INVALID"
    assert "client secret" in error.details()
    fetched = stub.GetConnection(pb.GetConnectionRequest(tenant_id=tenant, connection_id="c"), timeout=5)
    assert fetched.status == pb.CONNECTION_STATUS_INVALID
    assert fetched.last_outcome.reason == "CREDENTIALS_REJECTED"
    asked = [r for r in fakes.jumpcloud_oauth.requests if fakes.jumpcloud_oauth.override_key(r) == client_id]
    assert len(asked) >= 2 and fakes.jumpcloud_oauth.mints_for(client_id) == 1


def _poll_headers_until_refused(stub, tenant: str) -> grpc.RpcError:
    give_up = time.monotonic() + 15
    while True:
        try:
            _headers(stub, tenant)
        except grpc.RpcError as error:
            return error
        assert time.monotonic() < give_up, "the token was never minted again"
        time.sleep(0.2)


def test_a_token_endpoint_outage_is_unavailable_and_changes_nothing(stub, fakes, tenant):
    client_id, secret = fakes.jumpcloud_oauth.add_client(
        lambda t: fakes.jumpcloud.add_key(t, orgs=[ORG]), expires_in=1
    )
    _create(stub, tenant, "jumpcloud-service-account", {"client_id": client_id, "client_secret": secret})
    fakes.jumpcloud_oauth.override(client_id, Response(503, {"error": "temporarily_unavailable"}))
    try:
        error = _poll_headers_until_refused(stub, tenant)
    finally:
        del fakes.jumpcloud_oauth.overrides[client_id]
    assert error.code() == grpc.StatusCode.UNAVAILABLE and secret not in (error.details() or "")
    fetched = stub.GetConnection(pb.GetConnectionRequest(tenant_id=tenant, connection_id="c"), timeout=5)
    assert fetched.status == pb.CONNECTION_STATUS_ACTIVE
    assert _headers(stub, tenant).headers["Authorization"].startswith("Bearer tok-")


def test_verify_mints_afresh_and_finds_a_revoked_secret(stub, fakes, tenant):
    client_id, secret = fakes.jumpcloud_oauth.add_client(lambda t: fakes.jumpcloud.add_key(t, orgs=[ORG]))
    _create(stub, tenant, "jumpcloud-service-account", {"client_id": client_id, "client_secret": secret})
    _headers(stub, tenant)
    fakes.jumpcloud_oauth.clients[client_id].secret = "rotated-" + uuid.uuid4().hex
    verified = stub.VerifyConnection(
        pb.VerifyConnectionRequest(tenant_id=tenant, connection_id="c"), timeout=10
    )
    assert not verified.outcome.ok and verified.outcome.reason == "CREDENTIALS_REJECTED"
    assert verified.connection.status == pb.CONNECTION_STATUS_INVALID
    assert fakes.jumpcloud_oauth.mints_for(client_id) == 1, "the rejected mint issued nothing"


def test_list_providers_declares_client_credentials(stub):
    providers = {p.id: p for p in stub.ListProviders(pb.ListProvidersRequest(), timeout=5).providers}
    for provider_id in ("jumpcloud-service-account", "atlassian-service-account-oauth"):
        provider = providers[provider_id]
        fields = {f.name: f for f in provider.fields}
        assert provider.auth_mode == "oauth2_client_credentials"
        assert fields["client_secret"].secret and fields["client_id"].secret
        assert provider.setup_steps and provider.warnings and fields["client_secret"].help_text
    assert providers["atlassian-service-account"].auth_mode == "basic,bearer"
