"""Connection events across replicas: how long a change takes to reach a watcher on the other replica,
and what killing the replica that delivers webhooks (kill -9) costs.

    .venv/bin/python -m bench.events delay [--changes 300] [--poll 0.25]
    .venv/bin/python -m bench.events kill [--connections 40]

Both run a 3-node OpenBao Raft cluster, two credvault replicas and the JumpCloud fake. `delay` watches
one tenant on replica B while replica A makes `--changes` label updates one after another (a random
pause of up to 0.3 s between them, so changes do not fall in step with B's reads of the log), and
reports the time from the start of each RPC, and from its answer, to the event on B: p50, p99, max.
`kill` creates connections through both replicas, kills the replica holding the webhook lease once the
receiver has its first delivery (deliveries take 0.3 s each then, so some are in flight), revokes half
of the keys at the fake and checks those connections through the survivor, and counts: events a
watcher on the survivor saw, events the receiver got (all, and distinct), changes delivered under more
than one webhook-id (must be 0), and the seconds from the kill to the survivor's first delivery and to
the last event's.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import grpc
import hvac.exceptions
from cluster import BaoCluster
from events_support import Watch
from fakes.jumpcloud import FakeJumpCloud
from support import ORG, CredvaultProcess
from webhook_receiver import WebhookReceiver, new_secret

from bench.local_credvault import percentile
from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc

STATE = "connections/_events/webhooks/state"


def stub_of(replica: CredvaultProcess) -> credvault_pb2_grpc.CredentialVaultStub:
    return credvault_pb2_grpc.CredentialVaultStub(grpc.insecure_channel(replica.address))


def create(stub: credvault_pb2_grpc.CredentialVaultStub, tenant: str, connection_id: str, key: str) -> None:
    stub.CreateConnection(
        pb.CreateConnectionRequest(
            tenant_id=tenant, connection_id=connection_id, provider="jumpcloud", credentials={"api_key": key}
        ),
        timeout=30,
    )


def delay(
    cluster: BaoCluster, fake: FakeJumpCloud, scratch: Path, changes: int, poll: float
) -> dict[str, Any]:
    urls = {"jumpcloud": fake.url}
    with cluster.replicas(2, scratch, urls, CREDVAULT_EVENT_POLL_INTERVAL=str(poll)) as (maker, watcher):
        tenant, key = f"bench-{uuid.uuid4().hex[:8]}", f"jca_{uuid.uuid4().hex}"
        fake.add_key(key, orgs=[ORG])
        a, b = stub_of(maker), stub_of(watcher)
        create(a, tenant, "c", key)
        from_start, from_answer = [], []
        with Watch(b, tenant) as watch:
            for n in range(changes):
                time.sleep(random.uniform(0, 0.3))
                started = time.perf_counter()
                a.UpdateConnection(
                    pb.UpdateConnectionRequest(tenant_id=tenant, connection_id="c", labels={"n": str(n)}),
                    timeout=30,
                )
                answered = time.perf_counter()
                event = watch.next(timeout=30)
                seen = time.perf_counter()
                assert event.type == pb.CONNECTION_EVENT_TYPE_UPDATED
                from_start.append(seen - started)
                from_answer.append(seen - answered)
        return {
            "changes": changes,
            "poll_interval_s": poll,
            "rpc_start_to_watcher_ms": _summary(from_start),
            "rpc_answer_to_watcher_ms": _summary(from_answer),
        }


def kill(cluster: BaoCluster, fake: FakeJumpCloud, scratch: Path, connections: int) -> dict[str, Any]:
    receiver = WebhookReceiver(new_secret())
    try:
        with cluster.replicas(
            2,
            scratch,
            {"jumpcloud": fake.url},
            CREDVAULT_WEBHOOK_URLS=receiver.url,
            CREDVAULT_WEBHOOK_SECRET=receiver.secret,
            CREDVAULT_WEBHOOK_FIRST_RETRY="0.2",
        ) as started:
            holder = _holder(cluster, started)
            survivor = next(r for r in started if r is not holder)
            tenant = f"bench-{uuid.uuid4().hex[:8]}"
            keys = {f"c{n}": f"jca_{uuid.uuid4().hex}" for n in range(connections)}
            for key in keys.values():
                fake.add_key(key, orgs=[ORG])
            receiver.delay = 0.3
            with Watch(stub_of(survivor), tenant) as watch:
                for n, (connection_id, key) in enumerate(keys.items()):
                    create(stub_of(started[n % 2]), tenant, connection_id, key)
                receiver.wait_for(lambda got: any(d.body["data"]["tenant_id"] == tenant for d in got))
                holder.stop(signal.SIGKILL)
                killed_at = time.time()
                revoked = list(keys.items())[: connections // 2]
                for connection_id, key in revoked:
                    del fake.keys[key]
                    stub_of(survivor).VerifyConnection(
                        pb.VerifyConnectionRequest(tenant_id=tenant, connection_id=connection_id), timeout=30
                    )
                watched = [watch.next(timeout=120) for _ in range(connections + len(revoked))]
            receiver.delay = 0.0
            wanted = {e.event_id for e in watched}
            delivered = receiver.wait_for(lambda got: wanted <= {d.webhook_id for d in got}, timeout=300)
            mine = [d for d in delivered if d.body["data"]["tenant_id"] == tenant]
            ids_per_change: dict[tuple[str, str], set[str]] = defaultdict(set)
            for delivery in mine:
                data = delivery.body["data"]
                ids_per_change[(data["connection_id"], data["type"])].add(delivery.webhook_id)
            # The killed replica's last request may still be answered (the receiver takes 0.3 s): the
            # survivor's first delivery is the first one that arrives later than that.
            taken_over = [d.at for d in mine if d.at > killed_at + 0.35]
            first_arrival: dict[str, float] = {}
            for delivery in mine:
                first_arrival.setdefault(delivery.webhook_id, delivery.at)
            return {
                "events_watched": len(watched),
                "invalidated_watched": sum(e.type == pb.CONNECTION_EVENT_TYPE_INVALIDATED for e in watched),
                "deliveries": len(mine),
                "distinct_events_delivered": len({d.webhook_id for d in mine}),
                "events_lost": len(wanted - {d.webhook_id for d in mine}),
                "changes_under_two_ids": sum(len(ids) > 1 for ids in ids_per_change.values()),
                "redelivered_same_id": len(mine) - len({d.webhook_id for d in mine}),
                "seconds_from_kill_to_survivors_first_delivery": round(min(taken_over) - killed_at, 2),
                "seconds_from_kill_to_every_event_delivered": round(
                    max(first_arrival.values()) - killed_at, 2
                ),
                "bad_signatures": receiver.forged,
            }
    finally:
        receiver.stop()


def _holder(cluster: BaoCluster, started: list[CredvaultProcess]) -> CredvaultProcess:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            state = cluster.client().secrets.kv.v2.read_secret_version(
                path=STATE, mount_point="credvault", raise_on_deleted_version=True
            )["data"]["data"]
        except hvac.exceptions.InvalidPath:
            time.sleep(0.2)
            continue
        pid = int(state["owner"].split(":")[1])
        found = [r for r in started if r.process is not None and r.process.pid == pid]
        if found:
            return found[0]
        time.sleep(0.2)
    raise RuntimeError("no replica claimed webhook delivery")


def _summary(seconds: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(seconds, 0.5) * 1000, 1),
        "p99": round(percentile(seconds, 0.99) * 1000, 1),
        "max": round(max(seconds) * 1000, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("delay")
    run.add_argument("--changes", type=int, default=300)
    run.add_argument("--poll", type=float, default=0.25)
    down = sub.add_parser("kill")
    down.add_argument("--connections", type=int, default=40)
    args = parser.parse_args()
    fake = FakeJumpCloud().start()
    with tempfile.TemporaryDirectory(prefix="credvault-events-") as scratch:
        (Path(scratch) / "raft").mkdir()
        try:
            with BaoCluster(Path(scratch) / "raft") as cluster:
                if args.command == "delay":
                    report = delay(cluster, fake, Path(scratch), args.changes, args.poll)
                else:
                    report = kill(cluster, fake, Path(scratch), args.connections)
        finally:
            fake.stop()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
