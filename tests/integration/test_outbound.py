"""Outbound safety through the gRPC API: hostile config and credential values never reach the provider,
redirects are not followed with credentials attached, and the provider's TLS certificate is verified."""

from __future__ import annotations

import json
import ssl
import uuid
from collections.abc import Iterator

import grpc
import pytest
from certs import CertificateAuthority
from conftest import server_env
from fakes.base import Response
from fakes.example import FakeExample
from fakes.jumpcloud import FakeJumpCloud
from support import ORG, CredvaultProcess, rich_details

from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc as pb_grpc


def new_key(fake: FakeJumpCloud) -> str:
    key = f"jca_{uuid.uuid4().hex}"
    fake.add_key(key, orgs=[ORG])
    return key


@pytest.mark.parametrize(
    ("provider", "credentials", "config", "field"),
    [
        ("jumpcloud", {"api_key": "VALID"}, {"org_id": "http://169.254.169.254/latest"}, "config.org_id"),
        ("jumpcloud", {"api_key": "VALID"}, {"org_id": f"{ORG}\r\nHost: evil.com"}, "config.org_id"),
        ("jumpcloud", {"api_key": "VALID"}, {"base_url": "http://127.0.0.1:8200"}, "config.base_url"),
        ("jumpcloud", {"api_key": "jca_0123456789abcdef\r\nx-evil: 1"}, {}, "credentials.api_key"),
        ("example-bearer", {"token": "ex_ok\nHost: 127.0.0.1"}, {}, "credentials.token"),
        ("example-bearer", {"token": "ex_ok"}, {"host": "169.254.169.254"}, "config.host"),
    ],
    ids=[
        "org-id-url",
        "org-id-header-injection",
        "unknown-url-field",
        "key-injection",
        "token-injection",
        "host",
    ],
)
def test_hostile_values_never_reach_the_provider(stub, fakes, tenant, provider, credentials, config, field):
    credentials = {k: new_key(fakes.jumpcloud) if v == "VALID" else v for k, v in credentials.items()}
    before = len(fakes.jumpcloud.requests) + len(fakes.example.requests)
    request = pb.CreateConnectionRequest(
        tenant_id=tenant, connection_id="c", provider=provider, credentials=credentials, config=config
    )
    with pytest.raises(grpc.RpcError) as refused:
        stub.CreateConnection(request, timeout=10)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in {v.field for v in rich_details(refused.value)["BadRequest"].field_violations}
    assert len(fakes.jumpcloud.requests) + len(fakes.example.requests) == before


@pytest.fixture(scope="module")
def catcher() -> Iterator[FakeExample]:
    """Where the redirects point: it must never be called."""
    fake = FakeExample().start()
    yield fake
    fake.stop()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_not_followed_with_credentials(stub, fakes, tenant, catcher, status):
    key = new_key(fakes.jumpcloud)
    fakes.jumpcloud.override(key, Response(status, headers={"Location": f"{catcher.url}/steal"}))
    request = pb.CreateConnectionRequest(
        tenant_id=tenant, connection_id="c", provider="jumpcloud", credentials={"api_key": key}
    )
    with pytest.raises(grpc.RpcError) as refused:
        stub.CreateConnection(request, timeout=10)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert rich_details(refused.value)["ErrorInfo"].reason == "UNEXPECTED_REDIRECT"
    assert catcher.requests == []

    del fakes.jumpcloud.overrides[key]
    stub.CreateConnection(request, timeout=10)
    fakes.jumpcloud.override(key, Response(status, headers={"Location": f"{catcher.url}/steal"}))
    verified = stub.VerifyConnection(
        pb.VerifyConnectionRequest(tenant_id=tenant, connection_id="c"), timeout=10
    )
    assert not verified.outcome.ok and verified.outcome.reason == "UNEXPECTED_REDIRECT"
    assert catcher.requests == []


@pytest.fixture(scope="module")
def https_jumpcloud(tmp_path_factory) -> Iterator[tuple[FakeJumpCloud, CertificateAuthority]]:
    """The JumpCloud fake behind TLS, with a certificate from a CA nobody trusts by default."""
    ca = CertificateAuthority(tmp_path_factory.mktemp("provider-ca"), "provider CA")
    issued = ca.issue("127.0.0.1", server=True)
    fake = FakeJumpCloud()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(issued.cert, issued.key)
    fake._server.socket = context.wrap_socket(
        fake._server.socket, server_side=True, do_handshake_on_connect=False
    )
    fake._server.handle_error = lambda request, address: None  # refused handshakes are the point
    fake.start()
    yield fake, ca
    fake.stop()


@pytest.mark.parametrize("trusted", [False, True], ids=["untrusted-certificate", "trusted-via-SSL_CERT_FILE"])
def test_provider_tls_certificate_is_verified(openbao, fakes, https_jumpcloud, tmp_path, tenant, trusted):
    fake, ca = https_jumpcloud
    key = new_key(fake)
    urls = {**fakes.provider_urls(), "jumpcloud": fake.url.replace("http://", "https://")}
    extra = {"CREDVAULT_PROVIDER_URLS": json.dumps(urls)}
    if trusted:
        extra["SSL_CERT_FILE"] = str(ca.cert)
    process = CredvaultProcess(server_env(openbao, fakes, **extra), tmp_path).start()
    try:
        with grpc.insecure_channel(process.address) as channel:
            stub = pb_grpc.CredentialVaultStub(channel)
            request = pb.CreateConnectionRequest(
                tenant_id=tenant, connection_id="c", provider="jumpcloud", credentials={"api_key": key}
            )
            if trusted:
                assert stub.CreateConnection(request, timeout=10).status == pb.CONNECTION_STATUS_ACTIVE
                assert any(r.headers.get("x-api-key") == key for r in fake.requests)
                return
            with pytest.raises(grpc.RpcError) as refused:
                stub.CreateConnection(request, timeout=10)
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
            assert rich_details(refused.value)["ErrorInfo"].reason == "PROVIDER_UNREACHABLE"
            assert not any(r.headers.get("x-api-key") == key for r in fake.requests)
    finally:
        process.stop()
