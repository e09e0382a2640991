"""Connection events through WatchConnectionEvents on the session server (real OpenBao, real gRPC):
one event per change, none for a check that changes nothing, replay after a cursor, tenants apart,
cursor errors."""

from __future__ import annotations

import grpc
import pytest
from events_support import OTHER_LOG_CURSOR, Watch, type_name
from support import ORG, create_connection, refusal

from credvault.v1 import credvault_pb2 as pb


def ids(tenant: str, connection_id: str = "c") -> dict[str, str]:
    return {"tenant_id": tenant, "connection_id": connection_id}


def test_each_change_makes_one_event_and_a_check_that_changes_nothing_none(stub, fakes, key, tenant):
    with Watch(stub, tenant) as watch:
        created = create_connection(stub, tenant, "jumpcloud", {"api_key": key})
        event = watch.next()
        assert type_name(event) == "CREATED"
        assert (event.tenant_id, event.connection_id, event.provider) == (tenant, "c", "jumpcloud")
        assert event.status == pb.CONNECTION_STATUS_ACTIVE
        assert event.occurred_at == created.updated_at
        assert event.event_id and event.cursor and not event.HasField("outcome")

        stub.VerifyConnection(pb.VerifyConnectionRequest(**ids(tenant)), timeout=15)  # still fine: no event
        stub.UpdateConnection(
            pb.UpdateConnectionRequest(**ids(tenant), labels={"team": "billing"}), timeout=15
        )
        assert type_name(watch.next()) == "UPDATED"

        del fakes.jumpcloud.keys[key]  # the admin reset the key
        answer = stub.VerifyConnection(pb.VerifyConnectionRequest(**ids(tenant)), timeout=15)
        assert not answer.outcome.ok
        invalidated = watch.next()
        assert type_name(invalidated) == "INVALIDATED"
        assert invalidated.status == pb.CONNECTION_STATUS_INVALID
        assert invalidated.outcome.reason == "CREDENTIALS_REJECTED" and invalidated.outcome.hint
        stub.VerifyConnection(pb.VerifyConnectionRequest(**ids(tenant)), timeout=15)  # still rejected

        fakes.jumpcloud.add_key(key, orgs=[ORG])
        stub.VerifyConnection(pb.VerifyConnectionRequest(**ids(tenant)), timeout=15)
        recovered = watch.next()
        assert type_name(recovered) == "RECOVERED"
        assert recovered.status == pb.CONNECTION_STATUS_ACTIVE and recovered.outcome.ok

        stub.DeleteConnection(pb.DeleteConnectionRequest(**ids(tenant)), timeout=15)
        deleted = watch.next()
        assert type_name(deleted) == "DELETED"
        stub.DeleteConnection(pb.DeleteConnectionRequest(**ids(tenant), allow_missing=True), timeout=15)

        # Nothing else: a change on another connection is the very next event.
        create_connection(stub, tenant, "jumpcloud", {"api_key": key}, connection_id="other")
        after = watch.next()
        assert (type_name(after), after.connection_id) == ("CREATED", "other")
        seen = [event, invalidated, recovered, deleted, after]
        assert len({e.event_id for e in seen}) == len(seen)


def test_refused_changes_make_no_event(stub, fakes, key, tenant):
    create_connection(stub, tenant, "jumpcloud", {"api_key": key})
    with Watch(stub, tenant) as watch:
        with pytest.raises(grpc.RpcError) as exists:
            create_connection(stub, tenant, "jumpcloud", {"api_key": key})
        assert exists.value.code() == grpc.StatusCode.ALREADY_EXISTS
        with pytest.raises(grpc.RpcError) as rejected:
            stub.UpdateConnection(
                pb.UpdateConnectionRequest(**ids(tenant), credentials={"api_key": "jca_" + "0" * 40}),
                timeout=15,
            )
        assert rejected.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        stub.DeleteConnection(pb.DeleteConnectionRequest(**ids(tenant, "missing"), allow_missing=True))
        stub.DeleteConnection(pb.DeleteConnectionRequest(**ids(tenant)), timeout=15)
        assert type_name(watch.next()) == "DELETED"


def test_replay_after_a_cursor_then_new_events(stub, key, tenant):
    with Watch(stub, tenant) as live:
        for name in ("a", "b", "c"):
            create_connection(stub, tenant, "jumpcloud", {"api_key": key}, connection_id=name)
        first, second, third = live.next(), live.next(), live.next()
    with Watch(stub, tenant, after=first.cursor) as replay:
        assert [replay.next().event_id for _ in range(2)] == [second.event_id, third.event_id]
        stub.DeleteConnection(pb.DeleteConnectionRequest(**ids(tenant, "a")), timeout=15)
        deleted = replay.next()
        assert (type_name(deleted), deleted.connection_id) == ("DELETED", "a")
    with Watch(stub, tenant, after=deleted.cursor) as caught_up:
        create_connection(stub, tenant, "jumpcloud", {"api_key": key}, connection_id="d")
        assert caught_up.next().connection_id == "d"


def test_a_watcher_sees_only_its_tenant(stub, key, tenant):
    other = f"{tenant}-other"
    with Watch(stub, tenant) as mine:
        create_connection(stub, other, "jumpcloud", {"api_key": key})
        create_connection(stub, tenant, "jumpcloud", {"api_key": key})
        event = mine.next()
        assert event.tenant_id == tenant
        assert mine.nothing_queued()


@pytest.mark.parametrize(
    ("after", "code"),
    [
        ("not-a-cursor", grpc.StatusCode.INVALID_ARGUMENT),
        (OTHER_LOG_CURSOR, grpc.StatusCode.OUT_OF_RANGE),
    ],
)
def test_bad_cursors(stub, tenant, after, code):
    with pytest.raises(grpc.RpcError) as error:
        next(iter(stub.WatchConnectionEvents(pb.WatchConnectionEventsRequest(tenant_id=tenant, after=after))))
    assert error.value.code() == code
    if code == grpc.StatusCode.OUT_OF_RANGE:
        assert refusal(error.value).reason == "CURSOR_EXPIRED"


def test_bad_tenant_id_is_invalid_argument(stub):
    with pytest.raises(grpc.RpcError) as error:
        next(iter(stub.WatchConnectionEvents(pb.WatchConnectionEventsRequest(tenant_id="../x"))))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
