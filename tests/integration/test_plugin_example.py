"""The provider example in docs/providers.md is exactly the third-party package the tests install
(tests/plugins/credvault-example-provider, installed by scripts/test), it stays within 25 lines, and it
works through the gRPC API; its sibling shows a key carried in the query."""

from __future__ import annotations

import re
import uuid
from importlib.metadata import distribution
from pathlib import Path

import grpc
import pytest
from support import rich_details

from credvault.v1 import credvault_pb2 as pb

ROOT = Path(__file__).parents[2]
PLUGIN = ROOT / "tests" / "plugins" / "credvault-example-provider"


def _blocks(language: str) -> list[str]:
    page = (ROOT / "docs" / "providers.md").read_text().split("## Writing a provider")[1]
    return re.findall(rf"```{language}\n(.*?)```", page, re.S)


def test_the_docs_show_exactly_the_installed_example():
    shown = _blocks("python")[0]
    installed = distribution("credvault-example-provider")
    module = Path(str(installed.locate_file(""))) / "credvault_example_provider" / "__init__.py"
    source = PLUGIN / "credvault_example_provider" / "__init__.py"
    assert shown == source.read_text(), "docs/providers.md must show the tested example byte for byte"
    assert len(shown.splitlines()) <= 25
    points = {p.name: p.value for p in installed.entry_points if p.group == "credvault.providers"}
    assert points["example-bearer"] == "credvault_example_provider:PROVIDER"
    import credvault_example_provider

    assert Path(credvault_example_provider.__file__).resolve() in {source.resolve(), module.resolve()}
    for line in _blocks("toml")[0].strip().splitlines():
        assert line in (PLUGIN / "pyproject.toml").read_text().splitlines()


def _create(stub, tenant: str, provider: str, credentials: dict[str, str], id: str = "x") -> pb.Connection:
    request = pb.CreateConnectionRequest(
        tenant_id=tenant, connection_id=id, provider=provider, credentials=credentials
    )
    return stub.CreateConnection(request, timeout=10)


def test_the_example_provider_connects_and_refuses(stub, fakes, tenant):
    token = f"ex_{uuid.uuid4().hex}"
    fakes.example.tokens.add(token)
    assert _create(stub, tenant, "example-bearer", {"token": token}).status == pb.CONNECTION_STATUS_ACTIVE
    auth = stub.GetAuthHeaders(pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="x"), timeout=5)
    assert dict(auth.headers) == {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    assert not auth.query_params
    with pytest.raises(grpc.RpcError) as error:
        _create(stub, tenant, "example-bearer", {"token": "ex_wrong"}, id="y")
    info = rich_details(error.value)["ErrorInfo"]
    assert info.reason == "CREDENTIALS_REJECTED" and "make a new one" in info.metadata["hint"]


def test_a_key_in_the_query_comes_back_in_query_params(stub, fakes, tenant):
    key = f"exk_{uuid.uuid4().hex}"
    fakes.example.keys.add(key)
    assert _create(stub, tenant, "example-query", {"api_key": key}).status == pb.CONNECTION_STATUS_ACTIVE
    checked = [r for r in fakes.example.requests if r.query.get("api_key") == key]
    assert checked and checked[0].path == "/v1/me"
    auth = stub.GetAuthHeaders(pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id="x"), timeout=5)
    assert dict(auth.query_params) == {"api_key": key} and key not in str(dict(auth.headers))
    providers = {p.id: p for p in stub.ListProviders(pb.ListProvidersRequest(), timeout=5).providers}
    assert providers["example-query"].auth_mode == "query_param"
