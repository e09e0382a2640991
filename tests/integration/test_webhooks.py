"""Webhooks from a real server to a local receiver that verifies every Standard Webhooks signature:
each event delivered with its event id as webhook-id, in order per connection; a refused delivery retried
with the same id; a receiver that hangs never slows an RPC."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from conftest import server_env
from events_support import Watch
from support import CredvaultProcess, create_connection, scrape
from webhook_receiver import WebhookReceiver, new_secret

from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(new_secret())
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def hooked_server(openbao, fakes, receiver, tmp_path_factory) -> Iterator[CredvaultProcess]:
    env = server_env(
        openbao,
        fakes,
        CREDVAULT_WEBHOOK_URLS=receiver.url,
        CREDVAULT_WEBHOOK_SECRET=receiver.secret,
        CREDVAULT_WEBHOOK_FIRST_RETRY="0.2",
    )
    process = CredvaultProcess(env, tmp_path_factory.mktemp("hooked")).start()
    yield process
    process.stop()
    assert "api_key" not in process.logs() and receiver.secret not in process.logs()


@pytest.fixture(scope="module")
def hooked(hooked_server) -> Iterator[credvault_pb2_grpc.CredentialVaultStub]:
    with grpc.insecure_channel(hooked_server.address) as channel:
        yield credvault_pb2_grpc.CredentialVaultStub(channel)


def of_tenant(tenant: str, count: int):
    return lambda deliveries: len([d for d in deliveries if d.body["data"]["tenant_id"] == tenant]) >= count


def test_every_event_is_delivered_signed_and_in_order(hooked, receiver, key, tenant):
    with Watch(hooked, tenant) as watch:
        for name in ("a", "b"):
            create_connection(hooked, tenant, "jumpcloud", {"api_key": key}, connection_id=name)
        hooked.UpdateConnection(
            pb.UpdateConnectionRequest(tenant_id=tenant, connection_id="a", labels={"x": "y"}), timeout=15
        )
        hooked.DeleteConnection(pb.DeleteConnectionRequest(tenant_id=tenant, connection_id="a"), timeout=15)
        watched = [watch.next() for _ in range(4)]
    delivered = [d for d in receiver.wait_for(of_tenant(tenant, 4)) if d.body["data"]["tenant_id"] == tenant]
    assert receiver.forged == 0
    assert [d.webhook_id for d in delivered] == [e.event_id for e in watched]
    assert [d.body["type"] for d in delivered] == [
        "connection.created",
        "connection.created",
        "connection.updated",
        "connection.deleted",
    ]
    first = delivered[0].body["data"]
    assert first["connection_id"] == "a" and first["provider"] == "jumpcloud" and first["status"] == "ACTIVE"
    assert first["cursor"] == watched[0].cursor
    assert key not in str([d.body for d in delivered])


def test_a_refused_delivery_is_retried_with_the_same_id(hooked, receiver, key, tenant):
    receiver.fail_next = 2
    create_connection(hooked, tenant, "jumpcloud", {"api_key": key})
    delivered = [d for d in receiver.wait_for(of_tenant(tenant, 1)) if d.body["data"]["tenant_id"] == tenant]
    refused = [d for d in receiver.refused if d.body["data"]["tenant_id"] == tenant]
    assert len(refused) == 2
    assert {d.webhook_id for d in refused} == {delivered[0].webhook_id}


def test_a_hanging_receiver_never_slows_an_rpc(hooked, receiver, key, tenant):
    receiver.delay = 8.0
    try:
        for name in ("a", "b", "c"):  # each within a deadline far below the receiver's delay
            request = pb.CreateConnectionRequest(
                tenant_id=tenant, connection_id=name, provider="jumpcloud", credentials={"api_key": key}
            )
            hooked.CreateConnection(request, timeout=4)
    finally:
        receiver.delay = 0.0
    delivered = receiver.wait_for(of_tenant(tenant, 3))
    mine = [d.body["data"]["connection_id"] for d in delivered if d.body["data"]["tenant_id"] == tenant]
    assert mine == ["a", "b", "c"]


def test_metrics_count_events_and_deliveries(hooked, hooked_server, receiver, key, tenant):
    create_connection(hooked, tenant, "jumpcloud", {"api_key": key})
    receiver.wait_for(of_tenant(tenant, 1))

    def value(name: str, **labels: str) -> float:
        return scrape(hooked_server)[1].get((name, frozenset(labels.items())), 0.0)

    assert value("credvault_events_total", type="CREATED") >= 1
    assert value("credvault_webhook_deliveries_total", outcome="ok") >= 1
    assert value("credvault_webhook_deliveries_total", outcome="failed") >= 2  # the refused ones above
    assert ("credvault_webhook_oldest_undelivered_seconds", frozenset()) in scrape(hooked_server)[1]


def test_the_receiver_in_the_docs_verifies_a_delivery(hooked, receiver, key, tenant, monkeypatch):
    """docs/events.md's receiver, run as printed, accepts a real delivery and refuses a tampered one."""
    page = (Path(__file__).parents[2] / "docs/events.md").read_text()
    code = next(block for block in page.split("```python\n")[1:] if "standardwebhooks" in block)
    handled: list[dict[str, Any]] = []
    monkeypatch.setenv("CREDVAULT_WEBHOOK_SECRET", receiver.secret)
    namespace: dict[str, Any] = {"handle": handled.append}
    exec(code.split("```")[0], namespace)
    create_connection(hooked, tenant, "jumpcloud", {"api_key": key})
    delivery = next(
        d for d in receiver.wait_for(of_tenant(tenant, 1)) if d.body["data"]["tenant_id"] == tenant
    )
    assert namespace["receive"](delivery.raw, delivery.headers) == 204
    assert handled[0]["connection_id"] == "c"
    tampered = delivery.raw.replace(b'"ACTIVE"', b'"INVALID"')
    assert namespace["receive"](tampered, delivery.headers) == 400
