"""The clients' opt-in auth header caches against two real replicas on one OpenBao: changes are made
through replica A, cached clients read and watch through replica B. Server-side RPCs are counted from
B's metrics. The Python client is tested here; the Node and Go clients run their own cache tests
(clients/node/test/cache.test.js, clients/go/credvault/cache_test.go) against the same servers."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import server_env
from credvault_client import (
    Client,
    CredvaultError,
    DeadlineExceededError,
    FailedPreconditionError,
    NotFoundError,
    UnavailableError,
)
from support import ORG, CredvaultProcess, free_port, require_tools, scrape
from test_clients import NODE, go_tree, run

__all__ = ["go_tree"]  # a fixture, shared with test_clients

from credvault.polling import poll_until

SHORT_TTL = 2
"""CREDVAULT_CLIENT_CACHE_TTL of the `short` replica, in seconds."""
ROLES = {
    "admin": ["*"],
    "worker": ["GetAuthHeaders", "WatchConnectionEvents"],
    "blind": ["GetAuthHeaders"],
}
"""Callers in the replicas' access policy: `blind` may read headers but not watch events."""


@dataclass
class Replicas:
    a: CredvaultProcess
    b: CredvaultProcess
    short: CredvaultProcess
    """Like B, but answers cache_ttl = SHORT_TTL."""
    tokens: dict[str, str]

    def client(self, server: CredvaultProcess, role: str, **options: Any) -> Client:
        return Client.connect(server.address, tls=False, token=self.tokens[role], **options)

    def env(self) -> dict[str, str]:
        """What the Node and Go cache tests read."""
        return {
            "CREDVAULT_REPLICA_A": self.a.address,
            "CREDVAULT_REPLICA_B": self.b.address,
            "CREDVAULT_REPLICA_B_METRICS": self.b.metrics_url,
            "CREDVAULT_SHORT": self.short.address,
            "CREDVAULT_SHORT_METRICS": self.short.metrics_url,
            "CREDVAULT_SHORT_TTL": str(SHORT_TTL),
            **{f"CREDVAULT_TOKEN_{role.upper()}": token for role, token in self.tokens.items()},
        }


@pytest.fixture(scope="module")
def replicas(openbao, fakes, tmp_path_factory) -> Iterator[Replicas]:
    base = tmp_path_factory.mktemp("replicas")
    tokens = {role: uuid.uuid4().hex for role in ROLES}
    policy = base / "policy.json"
    callers = {
        role: {"tokens_sha256": [hashlib.sha256(tokens[role].encode()).hexdigest()], "tenants": ["*"]}
        | {"methods": methods}
        for role, methods in ROLES.items()
    }
    policy.write_text(json.dumps({"callers": callers}))
    # Pings every 0.5 s are accepted: the Node and Go clients' keepalive tests ping more often than usual.
    env = server_env(openbao, fakes, CREDVAULT_ACCESS_POLICY=str(policy), CREDVAULT_MIN_PING_INTERVAL="0.5")
    a = CredvaultProcess(env, base / "a").start()
    b = CredvaultProcess(env, base / "b").start()
    short = CredvaultProcess({**env, "CREDVAULT_CLIENT_CACHE_TTL": str(SHORT_TTL)}, base / "short").start()
    yield Replicas(a, b, short, tokens)
    for process in (a, b, short):
        process.stop()


def header_calls(server: CredvaultProcess) -> float:
    """GetAuthHeaders calls the server has answered, whatever their outcome."""
    _, samples = scrape(server)
    return sum(
        value
        for (name, labels), value in samples.items()
        if name == "credvault_rpc_duration_seconds_count" and ("method", "GetAuthHeaders") in labels
    )


def eventually(check: Callable[[], bool], timeout: float = 20.0) -> bool:
    return bool(poll_until(check, timeout, interval=0.02))


def connect(admin: Client, tenant: str, key: str, connection_id: str = "jc") -> None:
    admin.create_connection(tenant, "jumpcloud", {"api_key": key}, connection_id=connection_id)


def new_key(fakes) -> str:
    key = f"jca_{uuid.uuid4().hex}"
    fakes.jumpcloud.add_key(key, orgs=[ORG])
    return key


@pytest.fixture(scope="module")
def admin(replicas) -> Iterator[Client]:
    with replicas.client(replicas.a, "admin") as client:
        yield client


def test_the_server_says_how_long_an_answer_may_be_reused(replicas, admin, tenant, key):
    connect(admin, tenant, key)
    assert admin.get_auth_headers(tenant, "jc").cache_ttl.ToSeconds() == 300
    with replicas.client(replicas.short, "admin") as short:
        assert short.get_auth_headers(tenant, "jc").cache_ttl.ToSeconds() == SHORT_TTL


def test_a_hit_makes_no_call(replicas, admin, tenant, key):
    connect(admin, tenant, key)
    with replicas.client(replicas.b, "worker", cache_auth_headers=True) as cached:
        before = header_calls(replicas.b)
        answers = [cached.get_auth_headers(tenant, "jc") for _ in range(200)]
        assert header_calls(replicas.b) - before == 1
    assert all(answer.headers["x-api-key"] == key for answer in answers)


def test_concurrent_misses_make_one_call(replicas, admin, tenant, key):
    connect(admin, tenant, key)
    with replicas.client(replicas.b, "worker", cache_auth_headers=True) as cached:
        start = threading.Barrier(8)
        answers: list[str] = []

        def caller() -> None:
            start.wait()
            answers.append(cached.get_auth_headers(tenant, "jc").headers["x-api-key"])

        before = header_calls(replicas.b)
        threads = [threading.Thread(target=caller) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert answers == [key] * 8
        assert header_calls(replicas.b) - before == 1


def test_a_caller_joining_a_call_in_flight_keeps_its_own_deadline():
    """A listener that takes connections and never answers: the first caller's miss (30 s timeout) hangs;
    a second caller for the same connection gets the usual deadline error at its own short deadline,
    while the first is still waiting. Closing the connections then ends the first call."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    accepted = threading.Event()

    def hold() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return
            accepted.set()

    threading.Thread(target=hold, daemon=True).start()
    first: list[CredvaultError] = []
    with Client.connect(
        f"127.0.0.1:{listener.getsockname()[1]}", tls=False, cache_auth_headers=True
    ) as cached:

        def lead() -> None:
            try:
                cached.get_auth_headers("t-silent", "jc", timeout=30)
            except CredvaultError as error:
                first.append(error)

        leader = threading.Thread(target=lead)
        leader.start()
        try:
            assert accepted.wait(10)  # the leader's miss is in flight
            with pytest.raises(DeadlineExceededError):
                cached.get_auth_headers("t-silent", "jc", timeout=0.2)
            assert leader.is_alive()
        finally:
            listener.shutdown(socket.SHUT_RDWR)
            listener.close()
            for connection in held:
                connection.close()
            leader.join(timeout=40)
    assert len(first) == 1 and not isinstance(first[0], DeadlineExceededError), first


def test_the_cache_keeps_the_most_recently_used(replicas, admin, tenant, fakes):
    for connection_id in ("a", "b", "c"):
        connect(admin, tenant, new_key(fakes), connection_id)
    with replicas.client(replicas.b, "worker", cache_auth_headers=True, cache_size=2) as cached:
        before = header_calls(replicas.b)
        for connection_id in ("a", "b", "c", "c", "a"):  # c pushes a out; a comes back in place of b
            cached.get_auth_headers(tenant, connection_id)
        assert header_calls(replicas.b) - before == 4
        assert cached.header_cache is not None and len(cached.header_cache) == 2


def test_failures_are_not_cached(replicas, admin, tenant, key, fakes):
    connect(admin, tenant, key)
    with replicas.client(replicas.b, "worker", cache_auth_headers=True) as cached:
        before = header_calls(replicas.b)
        for _ in range(2):
            with pytest.raises(NotFoundError):
                cached.get_auth_headers(tenant, "no-such-connection")
        del fakes.jumpcloud.keys[key]
        assert not admin.verify_connection(tenant, "jc").outcome.ok
        for _ in range(2):
            with pytest.raises(FailedPreconditionError) as invalid:
                cached.get_auth_headers(tenant, "jc")
            assert invalid.value.reason == "CONNECTION_INVALID"
        assert header_calls(replicas.b) - before == 4


def served_key(client: Client, tenant: str, connection_id: str = "jc") -> str | type[Exception]:
    """The key the client hands out now, or the kind of error it raises."""
    try:
        return client.get_auth_headers(tenant, connection_id).headers["x-api-key"]
    except (NotFoundError, FailedPreconditionError) as error:
        return type(error)


@pytest.mark.parametrize("change", ["update", "delete", "invalidate"])
def test_a_change_through_another_replica_reaches_the_cache(replicas, admin, tenant, key, fakes, change):
    """With a cache_ttl of 300 s, only the event stream can make the change show within the wait."""
    connect(admin, tenant, key)
    with replicas.client(replicas.b, "worker", cache_auth_headers=True) as cached:
        assert served_key(cached, tenant) == key
        assert eventually(lambda: cached.header_cache is not None and cached.header_cache.watching(tenant))
        before = header_calls(replicas.b)
        assert served_key(cached, tenant) == key
        assert header_calls(replicas.b) == before, "served from memory"
        if change == "update":
            rotated = new_key(fakes)
            admin.update_connection(tenant, "jc", credentials={"api_key": rotated})
            expected: str | type[Exception] = rotated
        elif change == "delete":
            admin.delete_connection(tenant, "jc")
            expected = NotFoundError
        else:
            del fakes.jumpcloud.keys[key]
            assert not admin.verify_connection(tenant, "jc").outcome.ok
            expected = FailedPreconditionError
        assert eventually(lambda: served_key(cached, tenant) == expected), served_key(cached, tenant)


def test_without_the_stream_an_entry_lives_its_cache_ttl(replicas, admin, tenant, key, caplog):
    """The `blind` caller may not watch: its entry is served from memory until its cache_ttl has passed,
    then asked for again; and the client says once that it cannot watch."""
    connect(admin, tenant, key)
    caplog.set_level(logging.WARNING, logger="credvault_client.cache")
    with replicas.client(replicas.short, "blind", cache_auth_headers=True) as cached:
        before = header_calls(replicas.short)
        assert served_key(cached, tenant) == key
        assert header_calls(replicas.short) - before == 1
        assert eventually(
            lambda: served_key(cached, tenant) == key and header_calls(replicas.short) - before == 2
        )
    warnings = [r for r in caplog.records if "cannot watch" in r.getMessage()]
    assert len(warnings) == 1 and "PERMISSION_DENIED" in warnings[0].getMessage(), caplog.text


def test_with_the_server_away_an_entry_lives_its_cache_ttl(
    openbao, fakes, admin, tenant, key, tmp_path, caplog
):
    connect(admin, tenant, key)
    caplog.set_level(logging.WARNING, logger="credvault_client.cache")
    away = CredvaultProcess(
        server_env(openbao, fakes, CREDVAULT_CLIENT_CACHE_TTL=str(SHORT_TTL)), tmp_path / "away"
    ).start()
    try:
        with Client.connect(away.address, tls=False, cache_auth_headers=True) as cached:
            assert served_key(cached, tenant) == key
            away.stop()
            assert eventually(lambda: "cannot watch" in caplog.text)
            with pytest.raises(UnavailableError):
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    assert cached.get_auth_headers(tenant, "jc").headers["x-api-key"] == key
                    time.sleep(0.05)
    finally:
        away.stop()
    assert sum("cannot watch" in r.getMessage() for r in caplog.records) == 1, caplog.text


@pytest.mark.parametrize("cursor", ["kept", "expired"])
def test_a_stream_resumes_after_the_last_event_it_saw(openbao, fakes, admin, tenant, tmp_path, cursor):
    """A change made while the client's replica is away reaches it when the replica is back. Kept: the
    stream resumes from its cursor, the change is replayed, and only that connection is asked for
    again. Expired (older than CREDVAULT_EVENT_RETENTION: OUT_OF_RANGE): every entry of the tenant is
    dropped, and the stream watches from now."""
    first, second = new_key(fakes), new_key(fakes)
    connect(admin, tenant, first, "one")
    connect(admin, tenant, second, "two")
    retention = "1" if cursor == "expired" else "3600"
    env = server_env(
        openbao, fakes, CREDVAULT_LISTEN=f"127.0.0.1:{free_port()}", CREDVAULT_EVENT_RETENTION=retention
    )
    replica = CredvaultProcess(env, tmp_path / "replica").start()
    try:
        with Client.connect(replica.address, tls=False, cache_auth_headers=True) as cached:
            assert served_key(cached, tenant, "one") == first
            assert served_key(cached, tenant, "two") == second
            rotated_two = new_key(fakes)
            admin.update_connection(tenant, "two", credentials={"api_key": rotated_two})
            assert eventually(lambda: served_key(cached, tenant, "two") == rotated_two)  # an event: a cursor
            replica.stop()
            rotated_one = new_key(fakes)
            admin.update_connection(tenant, "one", credentials={"api_key": rotated_one})
            if cursor == "expired":
                time.sleep(1.5)  # the cursor's event is older than the retention now
            replica.start()
            assert eventually(lambda: served_key(cached, tenant, "one") == rotated_one)
            assert served_key(cached, tenant, "two") == rotated_two
            assert header_calls(replica) == (1 if cursor == "kept" else 2)
    finally:
        replica.stop()


@pytest.fixture
def other_client_env(replicas, admin, fakes) -> dict[str, str]:
    """What the Node and Go cache tests need besides the replicas: two keys the fake accepts, an
    INVALID connection, and an ACTIVE one whose key the fake no longer accepts (a check will find it)."""
    first, second = new_key(fakes), new_key(fakes)
    invalid = (f"t-{uuid.uuid4().hex[:12]}", "jc")
    revoked = (f"t-{uuid.uuid4().hex[:12]}", "jc")
    for tenant, connection_id in (invalid, revoked):
        doomed = new_key(fakes)
        connect(admin, tenant, doomed, connection_id)
        del fakes.jumpcloud.keys[doomed]
    assert not admin.verify_connection(*invalid).outcome.ok
    return {
        **os.environ,
        **replicas.env(),
        "CREDVAULT_TEST_JUMPCLOUD_KEY": first,
        "CREDVAULT_TEST_JUMPCLOUD_KEY_2": second,
        "CREDVAULT_TEST_INVALID": "/".join(invalid),
        "CREDVAULT_TEST_REVOKED": "/".join(revoked),
    }


def test_node_client_cache(other_client_env):
    require_tools("node", hint="apt-get install nodejs npm")
    output = run(["node", "--test", "test-replicas/cache.js"], NODE, other_client_env)
    assert "# pass 9" in output and "# skipped 0" in output, output


def test_go_client_cache(other_client_env, go_tree):
    output = run(
        ["go", "test", "-count=1", "-v", "-tags", "replicas", "-run", "TestCache", "./credvault"],
        go_tree.directory,
        {**other_client_env, **go_tree.env},
    )
    assert output.count("--- PASS: TestCache") == 9 and "--- SKIP" not in output, output
