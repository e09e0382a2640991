"""Property-based fuzzing of every RPC through the gRPC API (hypothesis): arbitrary strings, unicode, huge
and empty values, oversized maps and raw bytes that are no message at all. Only documented status codes
come back (never UNKNOWN, INTERNAL or UNAVAILABLE), a rejected request stores nothing, and the server
stays healthy.

The example count is kept small for CI; for a longer run:
    CREDVAULT_FUZZ_EXAMPLES=2000 scripts/test tests/integration/test_fuzz.py
"""

from __future__ import annotations

import os
import string
import uuid

import grpc
import pytest
from google.protobuf import duration_pb2, field_mask_pb2
from google.protobuf.descriptor import FieldDescriptor
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import ORG

from credvault.v1 import credvault_pb2 as pb

EXAMPLES = int(os.environ.get("CREDVAULT_FUZZ_EXAMPLES", "40"))
SERVICE = pb.DESCRIPTOR.services_by_name["CredentialVault"]
METHODS = [method.name for method in SERVICE.methods]
DOCUMENTED = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.ABORTED,
}
VICTIM_TENANT = f"fuzz-{uuid.uuid4().hex[:8]}"
VICTIM_ID = "victim"

ID_CHARS = string.ascii_letters + string.digits + "._-"
NASTY = [
    "",
    " ",
    ".",
    "..",
    "a/b",
    "../../sys/policies",
    "%2e%2e",
    "a" * 128,
    "a" * 129,
    "\x00",
    "tenant\n",
    "\u202e",
    "🔑",
    "*",
    "jumpcloud",
    "example-bearer",
    "api_key",
    "token",
    "org_id",
    VICTIM_TENANT,
    VICTIM_ID,
]
texts = st.one_of(
    st.text(max_size=50),
    st.text(alphabet=ID_CHARS, max_size=140),
    st.sampled_from(NASTY),
    st.integers(min_value=4000, max_value=70_000).map(lambda n: "x" * n),
)
maps = st.one_of(
    st.dictionaries(texts, texts, max_size=4),
    st.integers(min_value=60, max_value=200).map(lambda n: {f"k{i}": "v" for i in range(n)}),
)
masks = st.builds(field_mask_pb2.FieldMask, paths=st.lists(texts, max_size=20))
durations = st.builds(
    duration_pb2.Duration,
    seconds=st.integers(min_value=-(10**12), max_value=10**12),
    nanos=st.integers(min_value=-999_999_999, max_value=999_999_999),
)


def request_strategy(message_class: type) -> st.SearchStrategy:
    """Every field of the request filled from the strategies above, generically from its descriptor."""
    fields: dict[str, st.SearchStrategy] = {}
    for field in message_class.DESCRIPTOR.fields:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            fields[field.name] = maps
        elif field.message_type is field_mask_pb2.FieldMask.DESCRIPTOR:
            fields[field.name] = masks
        elif field.message_type is duration_pb2.Duration.DESCRIPTOR:
            fields[field.name] = durations
        elif field.is_repeated and field.type == FieldDescriptor.TYPE_STRING:
            fields[field.name] = st.lists(texts, max_size=5)
        elif field.type == FieldDescriptor.TYPE_STRING:
            fields[field.name] = texts
        elif field.type == FieldDescriptor.TYPE_INT32:
            fields[field.name] = st.integers(min_value=-(2**31), max_value=2**31 - 1)
        elif field.type == FieldDescriptor.TYPE_BOOL:
            fields[field.name] = st.booleans()
        else:
            raise AssertionError(f"teach the fuzzer {message_class.__name__}.{field.name}")
    optional = {name: strategy for name, strategy in fields.items()}
    return st.fixed_dictionaries({}, optional=optional).map(lambda values: message_class(**values))


@pytest.fixture(scope="module")
def victim(stub, fakes) -> pb.Connection:
    key = f"jca_{uuid.uuid4().hex}"
    fakes.jumpcloud.add_key(key, orgs=[ORG])
    return stub.CreateConnection(
        pb.CreateConnectionRequest(
            tenant_id=VICTIM_TENANT,
            connection_id=VICTIM_ID,
            provider="jumpcloud",
            credentials={"api_key": key},
        ),
        timeout=10,
    )


def snapshot(openbao) -> tuple[frozenset[str], frozenset[str], int]:
    """What a rejected request must not change: the tenants in Vault, the victim tenant's connections,
    and the victim's version."""
    kv = openbao.client().secrets.kv.v2
    tenants = kv.list_secrets(path="connections", mount_point="credvault")["data"]["keys"]
    try:
        ids = kv.list_secrets(path=f"connections/{VICTIM_TENANT}", mount_point="credvault")["data"]["keys"]
        meta = kv.read_secret_metadata(
            path=f"connections/{VICTIM_TENANT}/{VICTIM_ID}", mount_point="credvault"
        )
        version = meta["data"]["current_version"]
    except Exception:  # the victim was deleted by an accepted DeleteConnection
        ids, version = [], 0
    return frozenset(tenants), frozenset(ids), version


def assert_healthy(channel: grpc.Channel, stub) -> None:
    health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert stub.ListProviders(pb.ListProvidersRequest(), timeout=5).providers


def call_code(callable_, request) -> tuple[grpc.StatusCode, str]:
    try:
        callable_(request, timeout=15)
    except grpc.RpcError as error:
        return error.code(), error.details() or ""
    return grpc.StatusCode.OK, ""


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


@pytest.mark.parametrize("method", METHODS)
def test_fuzz_rpc(method, channel, stub, openbao, victim):
    request_class = getattr(pb, SERVICE.methods_by_name[method].input_type.name)
    rpc = getattr(stub, method)

    @FUZZ
    @given(request=request_strategy(request_class))
    def check(request) -> None:
        before = snapshot(openbao)
        code, details = call_code(rpc, request)
        assert code in DOCUMENTED, f"{method} answered {code.name}: {details}"
        if code is not grpc.StatusCode.OK:
            assert snapshot(openbao) == before, f"a rejected {method} ({code.name}) changed what is stored"

    check()
    assert_healthy(channel, stub)


@pytest.mark.parametrize("method", METHODS)
def test_fuzz_raw_bytes(method, channel, stub, openbao):
    rpc = channel.unary_unary(f"/{SERVICE.full_name}/{method}")

    @FUZZ
    @given(data=st.binary(max_size=300) | st.just(b"\x0a\x02\xc3\x28"))
    def check(data: bytes) -> None:
        before = snapshot(openbao)
        code, details = call_code(rpc, data)
        assert code in DOCUMENTED, f"{method} answered {code.name} to raw bytes: {details}"
        if code is not grpc.StatusCode.OK:
            assert snapshot(openbao) == before

    check()
    assert_healthy(channel, stub)
