"""A silent connection (a partition, a frozen host: no FIN, no RST) between a cached client and its
replica is noticed by the client's keepalive pings: the watch stream fails, reconnects over a new
connection and replays the change it missed, so the cache stops serving the old headers within about
keepalive time + timeout, not after cache_ttl (300 s). A real server, a real client, and a TCP proxy
in between that can freeze its connections."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from conftest import server_env
from credvault_client import Client, Keepalive
from freezing_proxy import FreezingProxy
from support import ORG, CredvaultProcess

from credvault.polling import poll_until

PINGS = Keepalive(time=1.0, timeout=1.0)
"""Short enough for a test; the server below accepts pings that often."""


@pytest.fixture(scope="module")
def replica(openbao, fakes, tmp_path_factory) -> Iterator[CredvaultProcess]:
    env = server_env(openbao, fakes, CREDVAULT_MIN_PING_INTERVAL="0.5")
    process = CredvaultProcess(env, tmp_path_factory.mktemp("keepalive")).start()
    yield process
    process.stop()


def served_key(client: Client, tenant: str) -> str:
    return client.get_auth_headers(tenant, "jc").headers["x-api-key"]


def test_a_frozen_connection_is_noticed_and_the_missed_change_replayed(replica, fakes, tenant, key):
    """Both clients cache through the same proxy; only the one that pings learns of the change made
    while its connection was frozen. The one without keepalive keeps serving the old key."""
    with (
        Client.connect(replica.address, tls=False) as admin,
        FreezingProxy(replica.address) as proxy,
        Client.connect(proxy.address, tls=False, cache_auth_headers=True, keepalive=PINGS) as pinging,
        Client.connect(proxy.address, tls=False, cache_auth_headers=True, keepalive=None) as silent,
    ):
        admin.create_connection(tenant, "jumpcloud", {"api_key": key}, connection_id="jc")
        for cached in (pinging, silent):
            assert served_key(cached, tenant) == key
            assert poll_until(lambda c=cached: c.header_cache.watching(tenant), 10, interval=0.02)
        time.sleep(3 * PINGS.time)  # pings go and are answered: the server does not refuse them
        assert pinging.header_cache.watching(tenant), "the server dropped the pinging client's connection"

        proxy.freeze()
        rotated = f"jca_rotated_{tenant}"
        fakes.jumpcloud.add_key(rotated, orgs=[ORG])
        admin.update_connection(tenant, "jc", credentials={"api_key": rotated})
        assert served_key(pinging, tenant) == key  # from memory: the change has not reached it yet

        # Well under cache_ttl (300 s); about time + timeout (2 s) plus the reconnection on a quiet machine.
        assert poll_until(lambda: served_key(pinging, tenant) == rotated, 20, interval=0.05)
        assert served_key(silent, tenant) == key, "without pings the frozen stream is not noticed"
