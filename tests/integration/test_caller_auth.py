"""Caller identity (TLS, mTLS, bearer tokens), the access policy, and the audit trail, through the gRPC
API of real `credvault serve` processes."""

from __future__ import annotations

import hashlib
import json
import secrets
import ssl
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import grpc
import httpx
import pytest
from certs import CertificateAuthority, Issued
from conftest import server_env
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from support import ORG, CredvaultProcess, rich_details

from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc as pb_grpc

WORKER_TENANT = f"acme-{uuid.uuid4().hex[:8]}"
CONNECT_METHODS = [
    "CreateConnection",
    "UpdateConnection",
    "VerifyConnection",
    "DeleteConnection",
    "GetConnection",
    "ListConnections",
]
BACKEND_SPIFFE_ID = "spiffe://credvault.test/ns/connect/sa/backend"
WORKER_DNS = "billing-worker.internal"


@dataclass
class Secured:
    """Two servers sharing one access policy: `mtls` requires client certificates, `tls` does not."""

    ca: CertificateAuthority
    mtls: CredvaultProcess
    tls: CredvaultProcess
    tokens: dict[str, str]
    certs: dict[str, Issued]

    def channel(
        self, server: CredvaultProcess, cert: str | None = None, token: str | None = None
    ) -> grpc.Channel:
        key, chain = self.certs[cert].pem() if cert else (None, None)
        credentials = grpc.ssl_channel_credentials(self.ca.cert.read_bytes(), key, chain)
        if token is not None:
            credentials = grpc.composite_channel_credentials(
                credentials, grpc.access_token_call_credentials(token)
            )
        return grpc.secure_channel(server.address, credentials)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@pytest.fixture(scope="module")
def secured(openbao, fakes, tmp_path_factory) -> Iterator[Secured]:
    base = tmp_path_factory.mktemp("secured")
    ca = CertificateAuthority(base / "ca")
    server_cert = ca.issue("credvault.test", server=True)
    certs = {
        "backend": ca.issue("connect-backend", uris=(BACKEND_SPIFFE_ID,)),
        "worker": ca.issue("worker", dns=(WORKER_DNS,)),
        "stranger": ca.issue("stranger", dns=("stranger.internal",)),
        "outsider": CertificateAuthority(base / "other", "other CA").issue("connect-backend"),
    }
    tokens = {"connect": secrets.token_urlsafe(32), "worker": secrets.token_urlsafe(32)}
    policy = {
        "callers": {
            "connect-backend": {
                "tokens_sha256": [digest("an-old-token-being-rotated"), digest(tokens["connect"])],
                "tenants": ["*"],
                "methods": CONNECT_METHODS,
            },
            "billing-worker": {
                "tokens_sha256": [digest(tokens["worker"])],
                "tenants": [WORKER_TENANT],
                "methods": ["GetAuthHeaders"],
            },
            BACKEND_SPIFFE_ID: {"tenants": ["*"], "methods": ["*"]},
            WORKER_DNS: {"tenants": [WORKER_TENANT], "methods": ["GetAuthHeaders"]},
        }
    }
    policy_file = base / "policy.json"
    policy_file.write_text(json.dumps(policy))
    tls_env = {
        "CREDVAULT_TLS_CERT": str(server_cert.cert),
        "CREDVAULT_TLS_KEY": str(server_cert.key),
        "CREDVAULT_ACCESS_POLICY": str(policy_file),
    }
    mtls = CredvaultProcess(
        server_env(openbao, fakes, **tls_env, CREDVAULT_TLS_CLIENT_CA=str(ca.cert)), base / "mtls"
    ).start()
    tls = CredvaultProcess(server_env(openbao, fakes, **tls_env), base / "tls").start()
    yield Secured(ca, mtls, tls, tokens, certs)
    mtls.stop()
    tls.stop()


def jumpcloud_key(fakes) -> str:
    key = f"jca_{uuid.uuid4().hex}"
    fakes.jumpcloud.add_key(key, orgs=[ORG])
    return key


def create_request(tenant: str, key: str, connection_id: str = "jc") -> pb.CreateConnectionRequest:
    return pb.CreateConnectionRequest(
        tenant_id=tenant, connection_id=connection_id, provider="jumpcloud", credentials={"api_key": key}
    )


def code_of(call, *args) -> grpc.StatusCode:
    try:
        call(*args, timeout=10)
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK


def audit_records(server: CredvaultProcess, tenant: str) -> list[dict[str, str]]:
    records = []
    for line in server.logs().splitlines():
        if not line.startswith("{"):
            continue  # gRPC's own messages about refused TLS handshakes
        entry = json.loads(line)
        if entry.get("logger") == "credvault.audit" and entry["audit"]["tenant_id"] == tenant:
            records.append(entry["audit"])
    return records


def test_tokens_name_callers_and_the_policy_limits_them(secured, fakes):
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    key = jumpcloud_key(fakes)
    with (
        secured.channel(secured.tls, token=secured.tokens["connect"]) as backend_channel,
        secured.channel(secured.tls, token=secured.tokens["worker"]) as worker_channel,
    ):
        backend, worker = (
            pb_grpc.CredentialVaultStub(backend_channel),
            pb_grpc.CredentialVaultStub(worker_channel),
        )
        backend.CreateConnection(create_request(WORKER_TENANT, key), timeout=10)
        backend.CreateConnection(create_request(tenant, key), timeout=10)
        own = pb.GetAuthHeadersRequest(tenant_id=WORKER_TENANT, connection_id="jc")
        assert worker.GetAuthHeaders(own, timeout=5).headers["x-api-key"] == key
        assert worker.ListProviders(pb.ListProvidersRequest(), timeout=5).providers

        with pytest.raises(grpc.RpcError) as other_tenant:
            worker.GetAuthHeaders(pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="jc"), timeout=5)
        assert other_tenant.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert rich_details(other_tenant.value)["ErrorInfo"].reason == "TENANT_NOT_ALLOWED"
        with pytest.raises(grpc.RpcError) as other_method:
            worker.DeleteConnection(
                pb.DeleteConnectionRequest(tenant_id=WORKER_TENANT, connection_id="jc"), timeout=5
            )
        assert other_method.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert rich_details(other_method.value)["ErrorInfo"].reason == "METHOD_NOT_ALLOWED"
        # The connect backend may manage connections but not read secrets.
        assert code_of(backend.GetAuthHeaders, own) == grpc.StatusCode.PERMISSION_DENIED

        # Denied before Vault or the provider is asked: no NOT_FOUND for a missing connection, no test call.
        calls = len(fakes.jumpcloud.requests)
        missing = pb.GetAuthHeadersRequest(tenant_id="nobody", connection_id="none")
        assert code_of(worker.GetAuthHeaders, missing) == grpc.StatusCode.PERMISSION_DENIED
        assert (
            code_of(worker.CreateConnection, create_request(tenant, key, "c2"))
            == grpc.StatusCode.PERMISSION_DENIED
        )
        assert len(fakes.jumpcloud.requests) == calls
        assert code_of(
            worker.GetConnection, pb.GetConnectionRequest(tenant_id=tenant, connection_id="c2")
        ) == (grpc.StatusCode.PERMISSION_DENIED)
        assert code_of(
            backend.GetConnection, pb.GetConnectionRequest(tenant_id=tenant, connection_id="c2")
        ) == (grpc.StatusCode.NOT_FOUND)


@pytest.mark.parametrize(
    "header",
    [None, "Bearer not-a-token", "Bearer", "Basic dXNlcjpwYXNz", "Bearer  "],
    ids=["none", "unknown-token", "scheme-only", "basic", "empty-token"],
)
def test_no_valid_identity_is_unauthenticated(secured, header):
    with secured.channel(secured.tls) as channel:
        stub = pb_grpc.CredentialVaultStub(channel)
        metadata = None if header is None else (("authorization", header),)
        for call, request in [
            (stub.ListProviders, pb.ListProvidersRequest()),
            (stub.GetAuthHeaders, pb.GetAuthHeadersRequest(tenant_id=WORKER_TENANT, connection_id="jc")),
        ]:
            with pytest.raises(grpc.RpcError) as denied:
                call(request, timeout=5, metadata=metadata)
            assert denied.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert "Bearer" in denied.value.details()


def test_health_and_reflection_need_no_identity(secured):
    with secured.channel(secured.tls) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        assert (
            health.Check(health_pb2.HealthCheckRequest(), timeout=5).status
            == health_pb2.HealthCheckResponse.SERVING
        )
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        answers = reflection.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        names = {s.name for answer in answers for s in answer.list_services_response.service}
        assert "credvault.v1.CredentialVault" in names


def test_mtls_certificate_names_the_caller(secured, fakes):
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    key = jumpcloud_key(fakes)
    with (
        secured.channel(secured.mtls, cert="backend") as backend_channel,
        secured.channel(secured.mtls, cert="worker") as worker_channel,
        secured.channel(secured.mtls, cert="stranger") as stranger_channel,
    ):
        backend = pb_grpc.CredentialVaultStub(backend_channel)
        worker = pb_grpc.CredentialVaultStub(worker_channel)
        stranger = pb_grpc.CredentialVaultStub(stranger_channel)
        backend.CreateConnection(create_request(WORKER_TENANT, key, "m"), timeout=10)
        backend.CreateConnection(create_request(tenant, key, "m"), timeout=10)
        assert backend.GetAuthHeaders(
            pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="m"), timeout=5
        ).headers
        own = pb.GetAuthHeadersRequest(tenant_id=WORKER_TENANT, connection_id="m")
        assert worker.GetAuthHeaders(own, timeout=5).headers["x-api-key"] == key
        other = pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="m")
        assert code_of(worker.GetAuthHeaders, other) == grpc.StatusCode.PERMISSION_DENIED

        with pytest.raises(grpc.RpcError) as unknown:
            stranger.ListProviders(pb.ListProvidersRequest(), timeout=5)
        assert unknown.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert rich_details(unknown.value)["ErrorInfo"].reason == "CALLER_NOT_IN_POLICY"

    # A token, when sent, decides who is calling, whatever the certificate says.
    with secured.channel(secured.mtls, cert="worker", token=secured.tokens["connect"]) as channel:
        stub = pb_grpc.CredentialVaultStub(channel)
        assert code_of(stub.GetAuthHeaders, own) == grpc.StatusCode.PERMISSION_DENIED
        assert code_of(stub.GetConnection, pb.GetConnectionRequest(tenant_id=tenant, connection_id="m")) == (
            grpc.StatusCode.OK
        )


@pytest.mark.parametrize("cert", [None, "outsider"], ids=["no-certificate", "other-ca"])
def test_mtls_refuses_callers_without_a_trusted_certificate(secured, cert):
    with secured.channel(secured.mtls, cert=cert, token=secured.tokens["connect"]) as channel:
        stub = pb_grpc.CredentialVaultStub(channel)
        # The TLS handshake fails, so gRPC reports UNAVAILABLE: the server never sees a call.
        assert code_of(stub.ListProviders, pb.ListProvidersRequest()) == grpc.StatusCode.UNAVAILABLE


def test_one_audit_record_per_call_without_secrets(secured, fakes):
    tenant = f"audit-{uuid.uuid4().hex[:10]}"
    key = jumpcloud_key(fakes)
    with (
        secured.channel(secured.tls, token=secured.tokens["connect"]) as backend_channel,
        secured.channel(secured.tls, token=secured.tokens["worker"]) as worker_channel,
        secured.channel(secured.mtls, cert="backend") as mtls_channel,
    ):
        backend, worker = (
            pb_grpc.CredentialVaultStub(backend_channel),
            pb_grpc.CredentialVaultStub(worker_channel),
        )
        created = backend.CreateConnection(create_request(tenant, key, ""), timeout=10)
        connection = created.connection_id
        backend.VerifyConnection(
            pb.VerifyConnectionRequest(tenant_id=tenant, connection_id=connection), timeout=10
        )
        code_of(worker.GetAuthHeaders, pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id=connection))
        code_of(backend.CreateConnection, create_request(tenant, "jca_rejected_by_the_fake_000"))
        backend.DeleteConnection(
            pb.DeleteConnectionRequest(tenant_id=tenant, connection_id=connection), timeout=5
        )
        mtls = pb_grpc.CredentialVaultStub(mtls_channel)
        code_of(mtls.GetAuthHeaders, pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id=connection))

    records = audit_records(secured.tls, tenant)
    summary = [(r["caller"], r["auth"], r["method"], r["connection_id"], r["outcome"]) for r in records]
    assert summary == [
        ("connect-backend", "token", "CreateConnection", connection, "OK"),
        ("connect-backend", "token", "VerifyConnection", connection, "OK"),
        ("billing-worker", "token", "GetAuthHeaders", connection, "PERMISSION_DENIED"),
        ("connect-backend", "token", "CreateConnection", "jc", "FAILED_PRECONDITION"),
        ("connect-backend", "token", "DeleteConnection", connection, "OK"),
    ]
    assert records[2]["reason"] == "TENANT_NOT_ALLOWED"
    assert all(r["peer"].startswith("ipv4:127.0.0.1:") for r in records)
    mtls_records = audit_records(secured.mtls, tenant)
    assert [(r["caller"], r["auth"], r["outcome"]) for r in mtls_records] == [
        (BACKEND_SPIFFE_ID, "certificate", "NOT_FOUND")
    ]
    log = secured.tls.logs() + secured.mtls.logs()
    for secret in (key, secured.tokens["connect"], secured.tokens["worker"]):
        assert secret not in log


def test_refuses_to_listen_beyond_loopback_without_caller_auth(openbao, fakes, tmp_path):
    env = server_env(openbao, fakes, CREDVAULT_LISTEN="0.0.0.0:0")
    result = subprocess.run(
        [sys.executable, "-m", "credvault", "serve"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0:0 without caller authentication" in result.stderr
    assert "CREDVAULT_ALLOW_UNAUTHENTICATED" in result.stderr


def test_running_without_caller_auth_says_so_loudly(server):
    assert "WARNING: caller authentication is OFF" in server.stdout()
    warnings = [json.loads(line) for line in server.logs().splitlines() if "authentication is OFF" in line]
    assert warnings and warnings[0]["level"] == "WARNING"


def test_bad_policy_stops_start_up(openbao, fakes, tmp_path: Path):
    policy = tmp_path / "policy.json"
    policy.write_text(
        json.dumps(
            {
                "callers": {
                    "worker": {
                        "tenants": ["*"],
                        "methods": ["GetAuthHeaders"],
                        "tokens_sha256": ["plain-token-by-mistake"],
                    }
                }
            }
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "credvault", "serve"],
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            **server_env(openbao, fakes, CREDVAULT_ACCESS_POLICY=str(policy)),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "tokens_sha256 holds SHA-256 hex digests" in result.stderr


def test_any_other_authorization_header_is_unauthenticated(secured):
    request = pb.GetAuthHeadersRequest(tenant_id=WORKER_TENANT, connection_id="jc")
    valid = {f"Bearer {t}" for t in secured.tokens.values()}
    with secured.channel(secured.tls) as channel:
        stub = pb_grpc.CredentialVaultStub(channel)

        @settings(max_examples=40, deadline=None, database=None)
        @given(header=st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=120))
        def check(header: str) -> None:
            assume(header.strip() not in valid)
            with pytest.raises(grpc.RpcError) as refused:
                stub.GetAuthHeaders(request, timeout=5, metadata=(("authorization", header),))
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED

        check()


def test_connect_page_speaks_tls_without_asking_for_client_certificates(secured):
    """The Connect page uses the gRPC port's certificate, asks browsers for none (even under mTLS), and
    its session cookie is Secure; CreateConnectSession is under the access policy like every method."""
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    request = pb.CreateConnectSessionRequest(tenant_id=tenant, providers=["jumpcloud"])
    with (
        secured.channel(secured.mtls, cert="backend") as allowed,
        secured.channel(secured.tls, token=secured.tokens["connect"]) as not_granted,
    ):
        session = pb_grpc.CredentialVaultStub(allowed).CreateConnectSession(request, timeout=10)
        refused = pb_grpc.CredentialVaultStub(not_granted).CreateConnectSession
        assert code_of(refused, request) == grpc.StatusCode.PERMISSION_DENIED
    assert session.connect_url.startswith("https://127.0.0.1:")
    parts = urlsplit(session.connect_url)
    trust = ssl.create_default_context(cafile=str(secured.ca.cert))
    with httpx.Client(verify=trust, timeout=10) as browser:
        landing = browser.get(session.connect_url)
        assert landing.status_code == 200
        assert landing.headers["strict-transport-security"] == "max-age=31536000"
        answer = browser.post(
            f"https://{parts.netloc}{parts.path}",
            data={"token": parts.query.removeprefix("token=")},
            headers={"Sec-Fetch-Site": "same-origin"},
        )
    assert answer.status_code == 303
    assert "Secure" in answer.headers["set-cookie"] and "HttpOnly" in answer.headers["set-cookie"]
