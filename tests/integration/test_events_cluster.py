"""Events across replicas: two credvault replicas on an OpenBao Raft cluster (one node: the replicas are
what is multiplied here), both configured with the same webhook receiver. A watcher on one replica sees
the changes made on the other; killing the replica that delivers webhooks (kill -9, mid-delivery)
loses no event, and no event reaches the receiver twice under different ids."""

from __future__ import annotations

import signal
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator

import grpc
import hvac.exceptions
import pytest
from cluster import BaoCluster
from events_support import Watch, type_name
from support import ORG, CredvaultProcess, create_connection
from webhook_receiver import WebhookReceiver, new_secret

from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc

pytestmark = pytest.mark.timeout(300)
STATE = "connections/_events/webhooks/state"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaoCluster]:
    with BaoCluster(tmp_path_factory.mktemp("raft"), size=1) as started:
        yield started


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(new_secret())
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def replicas(cluster, fakes, receiver, tmp_path_factory) -> Iterator[list[CredvaultProcess]]:
    with cluster.replicas(
        2,
        tmp_path_factory.mktemp("replicas"),
        fakes.provider_urls(),
        CREDVAULT_WEBHOOK_URLS=receiver.url,
        CREDVAULT_WEBHOOK_SECRET=receiver.secret,
        CREDVAULT_WEBHOOK_FIRST_RETRY="0.2",
    ) as started:
        yield started


def stub_of(replica: CredvaultProcess) -> credvault_pb2_grpc.CredentialVaultStub:
    return credvault_pb2_grpc.CredentialVaultStub(grpc.insecure_channel(replica.address))


def test_a_watcher_sees_changes_made_on_the_other_replica(replicas, key, tenant):
    first, second = (stub_of(r) for r in replicas)
    with Watch(second, tenant) as on_second, Watch(first, tenant) as on_first:
        create_connection(first, tenant, "jumpcloud", {"api_key": key}, connection_id="from-first")
        create_connection(second, tenant, "jumpcloud", {"api_key": key}, connection_id="from-second")
        seen_on_second = [on_second.next().connection_id for _ in range(2)]
        seen_on_first = [on_first.next().connection_id for _ in range(2)]
    assert seen_on_second == seen_on_first == ["from-first", "from-second"]


def delivering_replica(cluster: BaoCluster, replicas: list[CredvaultProcess]) -> CredvaultProcess:
    """The replica holding the webhook lease, from the state document in Vault."""
    deadline = time.monotonic() + 30
    while True:
        try:
            state = cluster.client().secrets.kv.v2.read_secret_version(
                path=STATE,
                mount_point="credvault",
                raise_on_deleted_version=True,
            )["data"]["data"]
            pid = int(state["owner"].split(":")[1])
            holder = [r for r in replicas if r.process is not None and r.process.pid == pid]
            if holder and state["until"] > time.time():
                return holder[0]
        except hvac.exceptions.InvalidPath:  # not written yet
            pass
        assert time.monotonic() < deadline, "no replica claimed webhook delivery"
        time.sleep(0.2)


def test_kill_9_of_the_delivering_replica_loses_no_event_and_sends_none_under_two_ids(
    cluster, replicas, receiver, fakes, tenant
):
    holder = delivering_replica(cluster, replicas)
    survivor = next(r for r in replicas if r is not holder)
    keys = {f"c{n}": f"jca_{uuid.uuid4().hex}" for n in range(8)}
    for key in keys.values():
        fakes.jumpcloud.add_key(key, orgs=[ORG])
    receiver.delay = 0.3  # deliveries are in flight when the replica dies
    with Watch(stub_of(survivor), tenant) as watch:
        for n, (connection_id, key) in enumerate(keys.items()):
            stub = stub_of(replicas[n % 2])
            create_connection(stub, tenant, "jumpcloud", {"api_key": key}, connection_id=connection_id)
        receiver.wait_for(lambda got: any(d.body["data"]["tenant_id"] == tenant for d in got))
        holder.stop(signal.SIGKILL)
        # Keys revoked at the provider: the checks on the survivor turn the connections INVALID.
        for connection_id, key in list(keys.items())[:4]:
            del fakes.jumpcloud.keys[key]
            stub_of(survivor).VerifyConnection(
                pb.VerifyConnectionRequest(tenant_id=tenant, connection_id=connection_id), timeout=15
            )
        watched = [watch.next(timeout=60) for _ in range(len(keys) + 4)]
    receiver.delay = 0.0
    assert [type_name(e) for e in watched].count("INVALIDATED") == 4
    wanted = {e.event_id for e in watched}
    delivered = receiver.wait_for(lambda got: wanted <= {d.webhook_id for d in got}, timeout=120)
    ids_per_change: dict[tuple[str, str], set[str]] = defaultdict(set)
    for delivery in delivered:
        data = delivery.body["data"]
        if data["tenant_id"] == tenant:
            ids_per_change[(data["connection_id"], data["type"])].add(delivery.webhook_id)
    assert len(ids_per_change) == len(wanted)
    assert all(len(ids) == 1 for ids in ids_per_change.values()), ids_per_change
    assert receiver.forged == 0
