"""Scheduled re-checks and expiry, with two credvault replicas on a 3-node OpenBao Raft cluster and the
fake providers: a key revoked at the provider is found INVALID by the next check and ACTIVE again once
fixed; a 429 pauses that provider's checks (Retry-After honoured) and changes nothing; the expiry
warning comes once and EXPIRED at expires_at; interval 0 turns the checks off (not the expiry events:
test_expiry). Every wait is for an outcome, with a generous bound. That two replicas check each
connection about once per interval between them is test_rechecks_soak's."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from cluster import BaoCluster
from events_support import Watch, type_name
from fakes.base import Response
from support import ORG, CredvaultProcess

from credvault.polling import poll_until
from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc

pytestmark = pytest.mark.timeout(240)

INTERVAL = 2
WARNING = 4


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaoCluster]:
    with BaoCluster(tmp_path_factory.mktemp("raft")) as started:
        yield started


@pytest.fixture(scope="module")
def replicas(cluster, fakes, tmp_path_factory) -> Iterator[list[CredvaultProcess]]:
    # Entries beside the connections the schedule must step over: Connect's sessions folder, and an
    # entry that is not a connection record at all (its look fails; the slice's other checks go on).
    kv = cluster.client().secrets.kv.v2
    kv.create_or_update_secret(
        "connections/_connect-sessions/s1", {"state": "PENDING"}, mount_point="credvault"
    )
    kv.create_or_update_secret("connections/odd-tenant/odd", {"not": "a connection"}, mount_point="credvault")
    with cluster.replicas(
        2,
        tmp_path_factory.mktemp("replicas"),
        fakes.provider_urls(),
        CREDVAULT_VERIFY_TIMEOUT="3",
        CREDVAULT_RECHECK_INTERVAL=str(INTERVAL),
        CREDVAULT_RECHECK_RATE="20",
        CREDVAULT_EXPIRY_WARNING=str(WARNING),
    ) as started:
        yield started


@pytest.fixture(scope="module")
def stubs(replicas) -> Iterator[list[credvault_pb2_grpc.CredentialVaultStub]]:
    channels = [grpc.insecure_channel(r.address) for r in replicas]
    yield [credvault_pb2_grpc.CredentialVaultStub(c) for c in channels]
    for channel in channels:
        channel.close()


@pytest.fixture
def cleanup(stubs) -> Iterator[list[tuple[str, str]]]:
    """Connections to delete after the test, so later tests' replicas don't keep checking them."""
    made: list[tuple[str, str]] = []
    yield made
    for tenant, cid in made:
        stubs[0].DeleteConnection(
            pb.DeleteConnectionRequest(tenant_id=tenant, connection_id=cid, allow_missing=True), timeout=10
        )


def until(probe: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    found = poll_until(probe, timeout)
    assert found, f"timed out waiting for {what}"
    return found


def get(stub, tenant: str, cid: str) -> pb.Connection:
    return stub.GetConnection(pb.GetConnectionRequest(tenant_id=tenant, connection_id=cid), timeout=10)


def jumpcloud(stub, cleanup, fakes, tenant: str, cid: str) -> str:
    key = f"jca_{uuid.uuid4().hex}"
    fakes.jumpcloud.add_key(key, orgs=[ORG])
    stub.CreateConnection(
        pb.CreateConnectionRequest(
            tenant_id=tenant, connection_id=cid, provider="jumpcloud", credentials={"api_key": key}
        ),
        timeout=10,
    )
    cleanup.append((tenant, cid))
    return key


def checks_of(fake, header: str, value: str) -> list[float]:
    return [r.received_at for r in list(fake.requests) if r.headers.get(header) == value]


def test_revoked_key_is_found_invalid_and_recovers_when_fixed(stubs, cleanup, fakes, tenant):
    watch = Watch(stubs[1], tenant)
    key = jumpcloud(stubs[0], cleanup, fakes, tenant, "revoked")
    created = get(stubs[1], tenant, "revoked")
    assert created.HasField("next_check_at")
    due = created.next_check_at.ToDatetime(UTC)
    # Within the interval, or the one after when its turn falls in the slice under way (2 s long here).
    assert (
        datetime.now(UTC) - timedelta(seconds=1) <= due <= datetime.now(UTC) + timedelta(seconds=2 * INTERVAL)
    )

    admin = fakes.jumpcloud.keys.pop(key)  # an administrator regenerated the key: the old one dies
    invalid = until(
        lambda: (c := get(stubs[1], tenant, "revoked")).status == pb.CONNECTION_STATUS_INVALID and c,
        "the next check to find the key rejected",
    )
    assert invalid.last_outcome.reason == "CREDENTIALS_REJECTED"
    assert invalid.last_outcome.provider_http_status == 401

    fakes.jumpcloud.keys[key] = admin  # fixed at the provider
    recovered = until(
        lambda: (c := get(stubs[0], tenant, "revoked")).status == pb.CONNECTION_STATUS_ACTIVE and c,
        "a check to find the key accepted again",
    )
    assert recovered.last_outcome.ok
    with watch:
        seen = [type_name(watch.next()) for _ in range(3)]
        assert seen == ["CREATED", "INVALIDATED", "RECOVERED"]  # checks that changed nothing: no events


def test_rate_limit_pauses_that_providers_checks_and_changes_nothing(stubs, cleanup, fakes, tenant):
    admin = fakes.atlassian_admin
    key = admin.add_key([ORG])
    stubs[0].CreateConnection(
        pb.CreateConnectionRequest(
            tenant_id=tenant,
            connection_id="limited",
            provider="atlassian-admin",
            credentials={"api_key": key},
        ),
        timeout=10,
    )
    cleanup.append((tenant, "limited"))
    jumpcloud_key = jumpcloud(stubs[0], cleanup, fakes, tenant, "other-provider")
    before = get(stubs[0], tenant, "limited")

    retry_after = 4
    admin.override(key, Response(429, {"message": "Too many requests"}, {"Retry-After": str(retry_after)}))
    sent = len(checks_of(admin, "authorization", f"Bearer {key}"))
    until(lambda: len(checks_of(admin, "authorization", f"Bearer {key}")) > sent, "a check to meet the 429")
    limited_at = checks_of(admin, "authorization", f"Bearer {key}")[-1]
    del admin.overrides[key]
    during = get(stubs[1], tenant, "limited")
    assert during.status == pb.CONNECTION_STATUS_ACTIVE
    assert during.last_outcome == before.last_outcome  # the 429 was not recorded as a verdict

    # The other provider's checks go on meanwhile.
    jumpcloud_before = len(checks_of(fakes.jumpcloud, "x-api-key", jumpcloud_key))
    until(
        lambda: len(checks_of(fakes.jumpcloud, "x-api-key", jumpcloud_key)) > jumpcloud_before,
        "JumpCloud checks to go on while Atlassian's are paused",
    )
    resumed = until(
        lambda: (
            (c := get(stubs[0], tenant, "limited")).last_verified_at.ToDatetime(UTC)
            > before.last_verified_at.ToDatetime(UTC)
            and c
        ),
        "the paused check to be made once Retry-After has passed",
    )
    assert resumed.status == pb.CONNECTION_STATUS_ACTIVE
    next_admin_call = min(t for t in checks_of(admin, "authorization", f"Bearer {key}") if t > limited_at)
    assert next_admin_call - limited_at >= retry_after - 0.5  # no replica asked before Retry-After


def test_expiry_warning_once_then_expired_at_expires_at(stubs, cleanup, fakes, tenant, cluster):
    cloud = fakes.atlassian
    bot = "expiring-bot@serviceaccount.atlassian.com"
    site, token = cloud.add_service_account(bot)
    expires_at = (datetime.now(UTC) + timedelta(seconds=WARNING + 6)).replace(microsecond=0)
    watch = Watch(stubs[1], tenant)
    stubs[0].CreateConnection(
        pb.CreateConnectionRequest(
            tenant_id=tenant,
            connection_id="expiring",
            provider="atlassian-service-account",
            credentials={"email": bot, "api_token": token},
            config={"cloud_id": site.cloud_id, "expires_at": expires_at.isoformat()},
        ),
        timeout=10,
    )
    cleanup.append((tenant, "expiring"))
    vault = cluster.client()

    def stored() -> dict[str, Any]:
        answer = vault.secrets.kv.v2.read_secret_version(
            path=f"connections/{tenant}/expiring", mount_point="credvault", raise_on_deleted_version=True
        )
        return dict(answer["data"]["data"]["connection"])

    warned = until(lambda: stored().get("expiry_warned_for"), "the expiry warning", timeout=30)
    assert datetime.fromisoformat(warned) == expires_at
    assert stored()["status"] == "ACTIVE"
    until(lambda: stored()["status"] == "EXPIRED", "the connection to become EXPIRED", timeout=30)
    assert datetime.now(UTC) >= expires_at
    assert get(stubs[1], tenant, "expiring").status == pb.CONNECTION_STATUS_EXPIRED
    assert not get(stubs[1], tenant, "expiring").HasField("next_check_at")
    checks_after = [r for r in cloud.requests_for(site.cloud_id) if r.received_at > expires_at.timestamp()]
    assert checks_after == [], "an expired connection was checked with the provider"
    with watch:
        events = [watch.next() for _ in range(3)]
        assert [type_name(e) for e in events] == ["CREATED", "EXPIRING", "EXPIRED"]
        assert events[1].occurred_at.ToDatetime(UTC) < expires_at <= events[2].occurred_at.ToDatetime(UTC)
        assert events[2].status == pb.CONNECTION_STATUS_EXPIRED
        time.sleep(INTERVAL)  # a few more turns of both replicas' schedules: still nothing
        assert watch.nothing_queued()


def test_interval_zero_turns_rechecks_off(stub, tenant, key, fakes, openbao):
    """The session server runs with CREDVAULT_RECHECK_INTERVAL=0."""
    stub.CreateConnection(
        pb.CreateConnectionRequest(
            tenant_id=tenant, connection_id="unscheduled", provider="jumpcloud", credentials={"api_key": key}
        ),
        timeout=10,
    )
    assert not get(stub, tenant, "unscheduled").HasField("next_check_at")
    sent = len(checks_of(fakes.jumpcloud, "x-api-key", key))
    time.sleep(3)
    assert len(checks_of(fakes.jumpcloud, "x-api-key", key)) == sent
    schedule = openbao.client().secrets.kv.v2.list_secrets(
        path="connections/_schedule", mount_point="credvault"
    )
    assert schedule["data"]["keys"] == ["expiry/"]  # no re-check was ever scheduled; expiry runs regardless
