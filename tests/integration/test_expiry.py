"""Expiry events on time, whatever the re-check interval: with re-checks off (0) and with a day-long
interval, two credvault replicas sharing one OpenBao emit, for a connection created a few
seconds before its warning or its expiry, one EXPIRING and then one EXPIRED event, near their moments
(re-checks would reach it only a day later). Every wait is for an event, with a generous bound."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from conftest import OpenBao, dev_openbao
from events_support import Watch, type_name
from support import CredvaultProcess

from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc

pytestmark = pytest.mark.timeout(180)

WARNING = 6


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBao]:
    """An OpenBao of the module's own, so no other replica (the session server's) takes part."""
    yield from dev_openbao(tmp_path_factory)


@pytest.fixture(scope="module", params=["0", "86400"], ids=["rechecks-off", "interval-a-day"])
def stubs(request, vault, fakes, tmp_path_factory) -> Iterator[list[credvault_pb2_grpc.CredentialVaultStub]]:
    env = {
        "VAULT_ADDR": vault.addr,
        "VAULT_ROLE_ID": vault.role_id,
        "VAULT_SECRET_ID": vault.secret_id,
        "CREDVAULT_VAULT_CREATE_MOUNT": "false",
        "CREDVAULT_LISTEN": "127.0.0.1:0",
        "CREDVAULT_PROVIDER_URLS": json.dumps(fakes.provider_urls()),
        "CREDVAULT_VERIFY_TIMEOUT": "3",
        "CREDVAULT_RECHECK_INTERVAL": request.param,
        "CREDVAULT_EXPIRY_WARNING": str(WARNING),
    }
    replicas = [
        CredvaultProcess(env, tmp_path_factory.mktemp(f"replica{i}-{request.param}")).start()
        for i in range(2)
    ]
    channels = [grpc.insecure_channel(r.address) for r in replicas]
    yield [credvault_pb2_grpc.CredentialVaultStub(c) for c in channels]
    for channel in channels:
        channel.close()
    for replica in replicas:
        replica.stop()


def test_expiring_then_expired_once_each_near_their_moments(stubs, fakes, tenant):
    cloud = fakes.atlassian
    bot = "expiring-bot@serviceaccount.atlassian.com"
    site, token = cloud.add_service_account(bot)
    now = datetime.now(UTC).replace(microsecond=0)
    expiries = {
        "warned-later": now + timedelta(seconds=WARNING + 3),  # the warning is 3 s ahead
        "warned-at-once": now + timedelta(seconds=WARNING - 1),  # within the warning already
    }
    watch = Watch(stubs[1], tenant)
    for cid, expires_at in expiries.items():
        stubs[0].CreateConnection(
            pb.CreateConnectionRequest(
                tenant_id=tenant,
                connection_id=cid,
                provider="atlassian-service-account",
                credentials={"email": bot, "api_token": token},
                config={"cloud_id": site.cloud_id, "expires_at": expires_at.isoformat()},
            ),
            timeout=10,
        )
    with watch:
        events = [watch.next(timeout=40) for _ in range(6)]
        by_connection = {cid: [e for e in events if e.connection_id == cid] for cid in expiries}
        for cid, expires_at in expiries.items():
            seen = by_connection[cid]
            assert [type_name(e) for e in seen] == ["CREATED", "EXPIRING", "EXPIRED"], cid
            warning_at = expires_at - timedelta(seconds=WARNING)
            expiring, expired = (e.occurred_at.ToDatetime(UTC) for e in seen[1:])
            assert warning_at - timedelta(seconds=1) <= expiring < expires_at, cid
            assert expires_at <= expired < expires_at + timedelta(seconds=60), cid  # not a day late
            assert seen[2].status == pb.CONNECTION_STATUS_EXPIRED
        time.sleep(2)  # both replicas' passes look at the minute again meanwhile: nothing more
        assert watch.nothing_queued()
    for cid in expiries:
        stubs[0].DeleteConnection(pb.DeleteConnectionRequest(tenant_id=tenant, connection_id=cid), timeout=10)
