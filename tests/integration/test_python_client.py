"""The Python client package (clients/python) against the live server: its convenience layer, its typed
errors with decoded details, and its retry policy."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import server_env
from credvault_client import (
    AlreadyExistsError,
    Client,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    OutOfRangeError,
    ResourceExhaustedError,
    UnauthenticatedError,
    UnavailableError,
    pb,
)
from credvault_client.channel import is_loopback
from events_support import OTHER_LOG_CURSOR, Watch
from fakes.base import Response
from support import ORG, CredvaultProcess, free_port


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


TOKEN = "t0ken-for-the-client-test"


@pytest.fixture(scope="module")
def vaultless(openbao, fakes, tmp_path_factory) -> Iterator[CredvaultProcess]:
    """A real credvault whose Vault answers nothing, so every call that needs Vault is UNAVAILABLE,
    with an access policy that knows one token, so the client's token is checked for real."""
    workdir = tmp_path_factory.mktemp("client-retries")
    policy = workdir / "policy.json"
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    policy.write_text(
        json.dumps({"callers": {"tester": {"tokens_sha256": [digest], "tenants": ["*"], "methods": ["*"]}}})
    )
    env = server_env(openbao, fakes, CREDVAULT_ACCESS_POLICY=str(policy), CREDVAULT_VAULT_TIMEOUT="0.5")
    env.update(
        {
            "VAULT_ADDR": f"http://127.0.0.1:{free_port()}",
            "VAULT_TOKEN": "s.none",
            "VAULT_ROLE_ID": "",
            "VAULT_SECRET_ID": "",
        }
    )
    process = CredvaultProcess(env, workdir / "run").start()
    yield process
    process.stop()


def attempts(process: CredvaultProcess, method: str, offset: int) -> int:
    """Calls of `method` the server's access log recorded after `offset`."""
    return process.logs()[offset:].count(f'"method": "/credvault.v1.CredentialVault/{method}"')


def test_reads_are_retried_on_unavailable_and_creates_never(vaultless: CredvaultProcess):
    offset = len(vaultless.logs())
    with Client.connect(vaultless.address, tls=False, token=TOKEN) as client:
        with pytest.raises(UnavailableError) as unavailable:
            # Long enough for every attempt: each waits out the server's own Vault retries (about
            # 1.5 s) and then the 1 s its pushback asks for.
            client.get_connection("t", "c", timeout=20)
        with pytest.raises(UnavailableError):
            client.create_connection("t", "jumpcloud", {"api_key": "jca_0123456789abcdef"})
    assert unavailable.value.reason == "VAULT_UNREACHABLE"
    assert attempts(vaultless, "GetConnection", offset) == 4  # the retry policy's maxAttempts
    assert attempts(vaultless, "CreateConnection", offset) == 1


def test_no_attempt_is_started_that_the_deadline_cannot_wait_for(vaultless: CredvaultProcess):
    """The server's pushback stops the client's retries once less time is left than the retry delay it
    asks for, so a short deadline ends in UNAVAILABLE and its reason, not a bare DEADLINE_EXCEEDED."""
    offset = len(vaultless.logs())
    client = Client.connect(vaultless.address, tls=False, token=TOKEN)
    with client, pytest.raises(UnavailableError) as unavailable:
        client.get_connection("t", "c", timeout=2)
    assert unavailable.value.reason == "VAULT_UNREACHABLE"
    assert attempts(vaultless, "GetConnection", offset) == 1


def test_token_is_sent_as_bearer_on_loopback(vaultless: CredvaultProcess):
    # Past caller auth, then stopped by the missing Vault:
    with Client.connect(vaultless.address, tls=False, token=TOKEN) as client, pytest.raises(UnavailableError):
        client.get_connection("t", "c")
    wrong = Client.connect(vaultless.address, tls=False, token="not-the-token")
    with wrong as client, pytest.raises(UnauthenticatedError):
        client.get_connection("t", "c")


def test_docs_example_runs_as_printed(server, fakes, tmp_path):
    """docs/clients.md's example, run as a script as it stands (only the address is the test server's)."""
    page = (Path(__file__).parents[2] / "docs" / "clients.md").read_text()
    block = page.split("<!-- python-client:start -->")[1].split("<!-- python-client:end -->")[0]
    code = re.search(r"```python\n(.*?)```", block, re.S).group(1)
    fakes.jumpcloud.add_key(re.search(r'"api_key": "([^"]+)"', code).group(1), orgs=[ORG])
    script = tmp_path / "example.py"
    script.write_text(code.replace("127.0.0.1:50051", server.address))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1 user(s)\n"


def test_plaintext_is_automatic_on_loopback_only(server, tenant):
    assert is_loopback("127.0.0.1:50051") and is_loopback("[::1]:50051") and is_loopback("localhost:1")
    assert not is_loopback("credvault.internal:50051") and not is_loopback("10.0.0.7:50051")
    with Client.connect(server.address) as vault:  # no tls=: plaintext, as the server is
        assert vault.list_connections(tenant).connections == []


def test_connect_sessions(client: Client, tenant):
    made = client.create_connect_session(tenant, providers=["jumpcloud"], connection_id="jc", ttl=90)
    assert made.connect_url.startswith("http") and made.state == pb.CONNECT_SESSION_STATE_PENDING
    got = client.get_connect_session(tenant, made.session_id)
    assert got.connect_url == "" and got.connection_id == "jc"
    assert got.expires_at.ToSeconds() - got.created_at.ToSeconds() == 90
    with pytest.raises(InvalidArgumentError) as bad:
        client.create_connect_session(tenant, return_url="https://not-allowed.example/back")
    assert [v.field for v in bad.value.violations] == ["return_url"]
    with pytest.raises(NotFoundError):
        client.get_connect_session(tenant, str(uuid.uuid4()))


def test_watch_events_replays_after_a_cursor_then_follows(client: Client, stub, tenant, key):
    with Watch(stub, tenant) as raw:
        client.create_connection(tenant, "jumpcloud", {"api_key": key}, connection_id="a")
        client.create_connection(tenant, "jumpcloud", {"api_key": key}, connection_id="b")
        cursor = raw.next().cursor
    events = client.watch_events(tenant, after=cursor, timeout=30)
    replayed = next(events)
    assert (replayed.connection_id, replayed.type) == ("b", pb.CONNECTION_EVENT_TYPE_CREATED)
    client.delete_connection(tenant, "a")  # after b was received, so the watch is in place
    live = next(events)
    assert (live.connection_id, live.type) == ("a", pb.CONNECTION_EVENT_TYPE_DELETED)
    events.close()
    with pytest.raises(OutOfRangeError):
        next(client.watch_events(tenant, after=OTHER_LOG_CURSOR, timeout=30))
