"""The Python client package (clients/python) against the live server: its convenience layer, its typed
errors with decoded details, and its retry policy."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from concurrent import futures
from datetime import timedelta
from pathlib import Path

import grpc
import httpx
import pytest
from credvault_client import (
    AlreadyExistsError,
    Client,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    ResourceExhaustedError,
    UnavailableError,
    pb,
)
from fakes.base import Response

ORG = "60259a2ad81e1a474d4e7c83"


@pytest.fixture
def key(fakes) -> str:
    value = f"jca_{uuid.uuid4().hex}"
    fakes.jumpcloud.add_key(value, orgs=[ORG])
    return value


def test_round_trip(client: Client, tenant, key):
    created = client.create_connection(tenant, "jumpcloud", {"api_key": key}, connection_id="jc")
    assert created.status == pb.CONNECTION_STATUS_ACTIVE
    assert client.get_connection(tenant, "jc") == created
    auth = client.get_auth_headers(tenant, "jc")
    assert auth.headers["x-api-key"] == key
    assert client.verify_connection(tenant, "jc").outcome.ok
    assert [c.connection_id for c in client.iter_connections(tenant, page_size=1)] == ["jc"]
    assert "jumpcloud" in {p.id for p in client.list_providers()}
    client.delete_connection(tenant, "jc")
    with pytest.raises(NotFoundError):
        client.get_connection(tenant, "jc")
    client.delete_connection(tenant, "jc", allow_missing=True)


def test_iter_connections_walks_every_page(client: Client, tenant, key):
    for index in range(5):
        client.create_connection(tenant, "jumpcloud", {"api_key": key}, connection_id=f"c{index}")
    seen = [c.connection_id for c in client.iter_connections(tenant, page_size=2)]
    assert seen == ["c0", "c1", "c2", "c3", "c4"]


def test_bad_fields_are_invalid_argument_with_each_violation(client: Client):
    with pytest.raises(InvalidArgumentError) as bad:
        client.create_connection("../etc", "jumpcloud", {}, connection_id="a/b")
    assert {"tenant_id", "connection_id"} <= bad.value.violated_fields
    assert all(v.description for v in bad.value.violations)


def test_rejected_key_carries_reason_metadata_and_help(client: Client, tenant):
    rejected_key = f"jca_{uuid.uuid4().hex}"
    with pytest.raises(FailedPreconditionError) as rejected:
        client.create_connection(tenant, "jumpcloud", {"api_key": rejected_key})
    error = rejected.value
    assert error.reason == "CREDENTIALS_REJECTED" and error.domain == "credvault"
    assert error.metadata["provider"] == "jumpcloud"
    assert error.metadata["provider_http_status"] == "401"
    assert error.help_links and error.help_links[0].startswith("https://")
    assert rejected_key not in str(error)


def test_already_exists(client: Client, tenant, key):
    client.create_connection(tenant, "jumpcloud", {"api_key": key}, connection_id="jc")
    with pytest.raises(AlreadyExistsError):
        client.create_connection(tenant, "jumpcloud", {"api_key": key}, connection_id="jc")


def test_rate_limit_carries_retry_after(client: Client, tenant, key, fakes):
    fakes.jumpcloud.override(key, Response(429, {"message": "Too Many Requests"}, {"Retry-After": "7"}))
    with pytest.raises(ResourceExhaustedError) as limited:
        client.create_connection(tenant, "jumpcloud", {"api_key": key})
    assert limited.value.retry_after == timedelta(seconds=7)


class FlakyServer:
    """A gRPC server on loopback that answers UNAVAILABLE to the first `failures` calls of every method
    and counts attempts: the retry policy is the client's behaviour, and the real server cannot be made
    to fail a chosen number of times on demand."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts: dict[str, int] = {}
        self.authorization: list[str] = []
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        self.server.add_generic_rpc_handlers([self])
        self.port = self.server.add_insecure_port("127.0.0.1:0")

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        method = details.method.rsplit("/", 1)[1]
        metadata = dict(details.invocation_metadata)

        def answer(request: bytes, context: grpc.ServicerContext) -> bytes:
            self.attempts[method] = self.attempts.get(method, 0) + 1
            self.authorization.append(str(metadata.get("authorization", "")))
            if self.attempts[method] <= self.failures:
                context.abort(grpc.StatusCode.UNAVAILABLE, "try again")
            return pb.Connection(connection_id="c").SerializeToString()

        return grpc.unary_unary_rpc_method_handler(answer)


@pytest.fixture
def flaky() -> Iterator[FlakyServer]:
    server = FlakyServer(failures=2)
    server.server.start()
    yield server
    server.server.stop(grace=None)


def test_reads_are_retried_on_unavailable_and_creates_never(flaky: FlakyServer):
    with Client.connect(f"127.0.0.1:{flaky.port}", tls=False) as client:
        assert client.get_connection("t", "c").connection_id == "c"
        with pytest.raises(UnavailableError):
            client.create_connection("t", "jumpcloud", {"api_key": "k"})
    assert flaky.attempts == {"GetConnection": 3, "CreateConnection": 1}


def test_token_is_sent_as_bearer_on_loopback(flaky: FlakyServer):
    flaky.failures = 0
    with Client.connect(f"127.0.0.1:{flaky.port}", tls=False, token="t0ken") as client:
        client.get_connection("t", "c")
    assert flaky.authorization == ["Bearer t0ken"]


def test_readme_example_runs(server, key, client: Client):
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    block = readme.split("<!-- python-client:start -->")[1].split("<!-- python-client:end -->")[0]
    code = re.search(r"```python\n(.*?)```", block, re.S).group(1)
    namespace = {"api_key": key, "httpx": httpx}
    exec(code.replace("127.0.0.1:50051", server.address), namespace)
    assert namespace["users"]["totalCount"] == 1
    client.delete_connection("acme", "jc")
