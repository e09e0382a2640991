"""Every failure maps to the right status with rich details, and bad input changes nothing."""

from __future__ import annotations

import json
import uuid

import grpc
import pytest
from conftest import server_env
from fakes.base import Response
from grpc_health.v1 import health_pb2, health_pb2_grpc
from support import CredvaultProcess, free_port, rich_details, violated_fields

from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc


def create_request(tenant: str, key: str, **overrides: object) -> pb.CreateConnectionRequest:
    fields: dict[str, object] = {
        "tenant_id": tenant,
        "connection_id": "jc",
        "provider": "jumpcloud",
        "credentials": {"api_key": key},
    }
    fields.update(overrides)
    return pb.CreateConnectionRequest(**fields)


def listed(stub, tenant: str) -> list[str]:
    page = stub.ListConnections(pb.ListConnectionsRequest(tenant_id=tenant), timeout=5)
    return [c.connection_id for c in page.connections]


def failure(call, request, timeout: float = 10) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call(request, timeout=timeout)
    return caught.value


def test_every_bad_field_is_named_and_nothing_is_stored(stub, tenant):
    error = failure(
        stub.CreateConnection,
        pb.CreateConnectionRequest(
            tenant_id=tenant,
            connection_id="../escape",
            provider="jumpcloud",
            credentials={"api_key": "short", "password": "hunter2hunter2"},
            config={"org_id": "not-an-id"},
        ),
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(error) >= {"connection_id"}
    assert listed(stub, tenant) == []

    error = failure(
        stub.CreateConnection,
        create_request(
            tenant, "short", credentials={"api_key": "short", "password": "x"}, config={"org_id": "zz"}
        ),
    )
    assert violated_fields(error) == {"credentials.api_key", "credentials.password", "config.org_id"}
    assert "short" not in error.details() and "short" not in str(rich_details(error))
    assert listed(stub, tenant) == []


@pytest.mark.parametrize(
    "request_fields, field",
    [
        ({"tenant_id": ""}, "tenant_id"),
        ({"tenant_id": "a/b"}, "tenant_id"),
        ({"tenant_id": ".hidden"}, "tenant_id"),
        ({"tenant_id": "x" * 129}, "tenant_id"),
        ({"connection_id": ".."}, "connection_id"),
        ({"connection_id": "a\nb"}, "connection_id"),
        ({"provider": ""}, "provider"),
        ({"provider": "no-such-provider"}, "provider"),
        ({"credentials": {}}, "credentials.api_key"),
        ({"credentials": {"api_key": "jca_0123456789abcdef\r\nx-evil: 1"}}, "credentials.api_key"),
        ({"labels": {"Bad Key": "v"}}, "labels"),
    ],
)
def test_invalid_argument(stub, tenant, request_fields, field):
    request = create_request(tenant, "jca_0123456789abcdef")
    for name, value in request_fields.items():
        if isinstance(value, dict):
            getattr(request, name).clear()
            getattr(request, name).update(value)
        else:
            setattr(request, name, value)
    error = failure(stub.CreateConnection, request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in violated_fields(error)
    assert rich_details(error)["ErrorInfo"].reason == "INVALID_ARGUMENT"


def test_rejected_key_is_failed_precondition_with_hint(stub, tenant):
    error = failure(stub.CreateConnection, create_request(tenant, f"jca_{uuid.uuid4().hex}"))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    details = rich_details(error)
    info = details["ErrorInfo"]
    assert info.reason == "CREDENTIALS_REJECTED"
    assert info.metadata["provider"] == "jumpcloud"
    assert info.metadata["provider_http_status"] == "401"
    assert "My API Key" in info.metadata["hint"] and "My API Key" in error.details()
    assert details["Help"].links[0].url.startswith("https://")
    assert listed(stub, tenant) == []


def override(fakes, response: Response) -> str:
    key = f"jca_{uuid.uuid4().hex}"
    fakes.jumpcloud.override(key, response)
    return key


def test_rate_limit_carries_retry_info(stub, tenant, fakes):
    key = override(fakes, Response(429, {"message": "Too Many Requests"}, headers={"Retry-After": "7"}))
    error = failure(stub.CreateConnection, create_request(tenant, key))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    details = rich_details(error)
    assert details["RetryInfo"].retry_delay.seconds == 7
    assert details["ErrorInfo"].reason == "PROVIDER_RATE_LIMITED"
    assert listed(stub, tenant) == []


@pytest.mark.parametrize(
    "response, reason",
    [
        (
            Response(503, {"code": 503, "message": "unavailable", "status": "Service Unavailable"}),
            "PROVIDER_ERROR",
        ),
        (
            Response(500, {"code": 500, "message": "boom", "status": "Internal Server Error"}),
            "PROVIDER_ERROR",
        ),
        (Response(200, drop=True), "PROVIDER_UNREACHABLE"),
        (Response(200, {}, delay=5), "PROVIDER_TIMEOUT"),
    ],
    ids=["503", "500", "dropped", "hangs"],
)
def test_provider_trouble_is_unavailable(stub, tenant, fakes, response, reason):
    error = failure(stub.CreateConnection, create_request(tenant, override(fakes, response)))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    details = rich_details(error)
    info = details["ErrorInfo"]
    assert info.reason == reason and info.metadata["provider"] == "jumpcloud"
    assert details["RetryInfo"].retry_delay.seconds == 1, "every UNAVAILABLE says when to retry"
    assert listed(stub, tenant) == []


def test_no_call_outlives_its_deadline(stub, tenant, fakes):
    key = override(fakes, Response(200, {}, delay=5))
    error = failure(stub.CreateConnection, create_request(tenant, key), timeout=1)
    assert error.code() in {grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE}


def test_redirects_are_not_followed(stub, tenant, fakes):
    key = override(fakes, Response(302, None, headers={"Location": "http://127.0.0.1:9/steal"}))
    error = failure(stub.CreateConnection, create_request(tenant, key))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert rich_details(error)["ErrorInfo"].reason == "UNEXPECTED_REDIRECT"


def test_update_of_missing_connection_is_not_found(stub, tenant):
    error = failure(
        stub.UpdateConnection,
        pb.UpdateConnectionRequest(tenant_id=tenant, connection_id="nope", labels={"a": "b"}),
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_update_needs_something_to_change(stub, tenant):
    error = failure(stub.UpdateConnection, pb.UpdateConnectionRequest(tenant_id=tenant, connection_id="x"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "update_mask" in violated_fields(error)


@pytest.fixture(scope="module")
def vaultless(fakes, openbao, tmp_path_factory):
    """A credvault whose Vault address answers nothing."""
    env = server_env(openbao, fakes)
    env.update(
        {
            "VAULT_ADDR": f"http://127.0.0.1:{free_port()}",
            "VAULT_TOKEN": "s.none",
            "VAULT_ROLE_ID": "",
            "VAULT_SECRET_ID": "",
            "CREDVAULT_VAULT_TIMEOUT": "1",
        }
    )
    process = CredvaultProcess(env, tmp_path_factory.mktemp("vaultless")).start()
    yield process
    process.stop()


def test_vault_unreachable_is_unavailable_and_not_serving(vaultless, tenant):
    with grpc.insecure_channel(vaultless.address) as channel:
        stub = credvault_pb2_grpc.CredentialVaultStub(channel)
        error = failure(stub.GetConnection, pb.GetConnectionRequest(tenant_id=tenant, connection_id="x"))
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        details = rich_details(error)
        assert details["ErrorInfo"].reason == "VAULT_UNREACHABLE"
        assert details["RetryInfo"].retry_delay.seconds == 1
        health = health_pb2_grpc.HealthStub(channel)
        answer = health.Check(
            health_pb2.HealthCheckRequest(service="credvault.v1.CredentialVault"), timeout=5
        )
        assert answer.status == health_pb2.HealthCheckResponse.NOT_SERVING


def test_broken_provider_urls_stop_start_up(openbao, fakes, tmp_path):
    env = server_env(openbao, fakes, CREDVAULT_PROVIDER_URLS=json.dumps({"nope": "https://x"}))
    with pytest.raises(RuntimeError, match="not installed"):
        CredvaultProcess(env, tmp_path).start()
