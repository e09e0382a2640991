"""Hardening of caller identity and transport (issue 14, items 1-4), through real `credvault serve`
processes: certificate and token callers are separate kinds, an empty token is never a token, secrets
never cross the network in clear without the operator's word, and the health check speaks TLS."""

from __future__ import annotations

import hashlib
import json
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from certs import CertificateAuthority, Issued
from conftest import server_env
from support import ORG, CredvaultProcess, refusal

from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc as pb_grpc

TENANT = f"hard-{uuid.uuid4().hex[:8]}"
BACKEND = "spiffe://credvault.test/ns/connect/sa/backend"
SERVER_NAME = "credvault.prod.internal"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Servers:
    ca: CertificateAuthority
    mtls: CredvaultProcess
    tls: CredvaultProcess
    certs: dict[str, Issued]
    worker_token: str
    env: dict[str, dict[str, str]]

    def stub(self, cert: str | None = None, token: str | None = None, server: str = "mtls") -> grpc.Channel:
        key, chain = self.certs[cert].pem() if cert else (None, None)
        credentials = grpc.ssl_channel_credentials(self.ca.cert.read_bytes(), key, chain)
        if token is not None:
            credentials = grpc.composite_channel_credentials(
                credentials, grpc.access_token_call_credentials(token)
            )
        target = self.mtls if server == "mtls" else self.tls
        options = [("grpc.ssl_target_name_override", SERVER_NAME)]
        channel = grpc.secure_channel(target.address, credentials, options=options)
        return channel


@pytest.fixture(scope="module")
def servers(openbao, fakes, tmp_path_factory) -> Iterator[Servers]:
    base = tmp_path_factory.mktemp("hardening")
    ca = CertificateAuthority(base / "ca")
    # The server's certificate names neither 127.0.0.1 nor localhost, as in production.
    server_cert = ca.issue(SERVER_NAME, dns=(SERVER_NAME,), server=True, loopback=False)
    certs = {
        "backend": ca.issue("backend", uris=(BACKEND,)),
        # The CN of a token caller, and no SAN: once enough to take over the worker's grant.
        "cn-of-token-caller": ca.issue("billing-worker"),
        # A certificate caller's name as CN, but SANs present: the CN no longer counts.
        "cn-beside-sans": ca.issue("beta.internal", dns=("unrelated.internal",)),
        "cn-only": ca.issue("alpha.internal"),
        "two-callers": ca.issue("two", dns=("alpha.internal", "beta.internal")),
        "healthcheck": ca.issue("healthcheck.internal", dns=("healthcheck.internal",)),
    }
    worker_token = secrets.token_urlsafe(32)
    policy = {
        "callers": {
            "billing-worker": {
                "tokens_sha256": [digest(worker_token)],
                "tenants": [TENANT],
                "methods": ["GetAuthHeaders"],
            },
            BACKEND: {"tenants": ["*"], "methods": ["*"]},
            "alpha.internal": {"tenants": [TENANT], "methods": ["GetConnection"]},
            "beta.internal": {"tenants": [TENANT], "methods": ["GetConnection", "DeleteConnection"]},
        }
    }
    policy_file = base / "policy.json"
    policy_file.write_text(json.dumps(policy))
    tls_env = {
        "CREDVAULT_TLS_CERT": str(server_cert.cert),
        "CREDVAULT_TLS_KEY": str(server_cert.key),
        "CREDVAULT_ACCESS_POLICY": str(policy_file),
    }
    env = {
        "mtls": server_env(openbao, fakes, **tls_env, CREDVAULT_TLS_CLIENT_CA=str(ca.cert)),
        "tls": server_env(openbao, fakes, **tls_env),
    }
    mtls = CredvaultProcess(env["mtls"], base / "mtls").start()
    tls = CredvaultProcess(env["tls"], base / "tls").start()
    yield Servers(ca, mtls, tls, certs, worker_token, env)
    mtls.stop()
    tls.stop()


@pytest.fixture(scope="module")
def connection(servers, fakes) -> str:
    key = f"jca_{uuid.uuid4().hex}"
    fakes.jumpcloud.add_key(key, orgs=[ORG])
    with servers.stub("backend") as channel:
        pb_grpc.CredentialVaultStub(channel).CreateConnection(
            pb.CreateConnectionRequest(
                tenant_id=TENANT, connection_id="jc", provider="jumpcloud", credentials={"api_key": key}
            ),
            timeout=10,
        )
    return key


def refused(servers: Servers, cert: str, call: str = "GetAuthHeaders"):
    with servers.stub(cert) as channel:
        stub = pb_grpc.CredentialVaultStub(channel)
        request = (pb.GetAuthHeadersRequest if call == "GetAuthHeaders" else pb.GetConnectionRequest)(
            tenant_id=TENANT, connection_id="jc"
        )
        try:
            getattr(stub, call)(request, timeout=10)
        except grpc.RpcError as error:
            return refusal(error)
    return None


def test_a_certificate_never_takes_a_token_callers_grant(servers, connection):
    with servers.stub(token=servers.worker_token, server="tls") as channel:
        request = pb.GetAuthHeadersRequest(tenant_id=TENANT, connection_id="jc")
        assert pb_grpc.CredentialVaultStub(channel).GetAuthHeaders(request, timeout=10).headers
    denied = refused(servers, "cn-of-token-caller")
    assert denied is not None
    assert (denied.code, denied.reason) == (grpc.StatusCode.PERMISSION_DENIED, "CALLER_NOT_IN_POLICY")


def test_the_common_name_counts_only_without_alternative_names(servers, connection):
    assert refused(servers, "cn-only", "GetConnection") is None
    denied = refused(servers, "cn-beside-sans", "GetConnection")
    assert denied is not None
    assert (denied.code, denied.reason) == (grpc.StatusCode.PERMISSION_DENIED, "CALLER_NOT_IN_POLICY")


def test_a_certificate_naming_two_callers_is_refused(servers, connection):
    denied = refused(servers, "two-callers", "GetConnection")
    assert denied is not None
    assert (denied.code, denied.reason) == (grpc.StatusCode.UNAUTHENTICATED, "CERTIFICATE_AMBIGUOUS")
    assert "more than one caller" in denied.message


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "bearer   "])
def test_an_empty_bearer_token_is_unauthenticated(servers, connection, header):
    with servers.stub(server="tls") as channel, pytest.raises(grpc.RpcError) as error:
        pb_grpc.CredentialVaultStub(channel).GetAuthHeaders(
            pb.GetAuthHeadersRequest(tenant_id=TENANT, connection_id="jc"),
            timeout=10,
            metadata=(("authorization", header),),
        )
    assert refusal(error.value).reason == "TOKEN_INVALID"


def serve(env: dict[str, str], home: Path) -> subprocess.CompletedProcess[str]:
    """`credvault serve` that is expected to refuse to start."""
    return subprocess.run(
        [sys.executable, "-m", "credvault", "serve"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_policy_with_the_digest_of_an_empty_token_stops_start_up(openbao, fakes, tmp_path):
    policy = tmp_path / "policy.json"
    empty = hashlib.sha256(b"").hexdigest()
    policy.write_text(
        json.dumps({"callers": {"w": {"tokens_sha256": [empty], "tenants": ["*"], "methods": ["*"]}}})
    )
    result = serve(server_env(openbao, fakes, CREDVAULT_ACCESS_POLICY=str(policy)), tmp_path)
    assert result.returncode == 2, result.stderr
    assert "SHA-256 of the empty string" in result.stderr


def test_plaintext_beyond_loopback_needs_the_operators_word(openbao, fakes, tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"callers": {"w": {"tenants": ["*"], "methods": ["*"]}}}))
    env = server_env(openbao, fakes, CREDVAULT_ACCESS_POLICY=str(policy), CREDVAULT_LISTEN="0.0.0.0:0")
    result = serve(env, tmp_path)
    assert result.returncode == 2
    assert "without TLS" in result.stderr and "CREDVAULT_ALLOW_PLAINTEXT" in result.stderr
    allowed = CredvaultProcess({**env, "CREDVAULT_ALLOW_PLAINTEXT": "true"}, tmp_path / "allowed").start()
    assert allowed.stop() == 0


def test_a_plain_http_vault_beyond_loopback_needs_the_operators_word(openbao, fakes, tmp_path):
    # Refused before any request: nothing is ever sent to this address.
    env = server_env(openbao, fakes, VAULT_ADDR="http://vault.example.com:8200")
    result = serve(env, tmp_path)
    assert result.returncode == 2
    assert "plain HTTP" in result.stderr and "CREDVAULT_ALLOW_PLAINTEXT" in result.stderr


def healthcheck(env: dict[str, str], server: CredvaultProcess) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "credvault", "healthcheck"],
        env={"PATH": "/usr/bin:/bin", **env, "CREDVAULT_LISTEN": server.address},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_healthcheck_speaks_tls(servers):
    result = healthcheck(servers.env["tls"], servers.tls)
    assert result.returncode == 0, result.stderr
    assert "SERVING" in result.stdout


def test_the_healthcheck_presents_its_client_certificate_under_mtls(servers):
    cert = servers.certs["healthcheck"]
    env = {
        **servers.env["mtls"],
        "CREDVAULT_HEALTHCHECK_CERT": str(cert.cert),
        "CREDVAULT_HEALTHCHECK_KEY": str(cert.key),
    }
    result = healthcheck(env, servers.mtls)
    assert result.returncode == 0, result.stderr
    assert "SERVING" in result.stdout
