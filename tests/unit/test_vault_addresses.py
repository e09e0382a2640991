"""VAULT_ADDR naming every node of a Vault/OpenBao cluster."""

from __future__ import annotations

import pytest

from credvault.config import VaultSettings, from_env
from credvault.vault.store import VaultStore

AUTH = {"VAULT_ROLE_ID": "r", "VAULT_SECRET_ID": "s"}


@pytest.mark.parametrize(
    ("raw", "addresses"),
    [
        ("https://vault:8200", ("https://vault:8200",)),
        ("http://a:8200, http://b:8200/ ,http://c:8200", ("http://a:8200", "http://b:8200", "http://c:8200")),
        ("http://a:8200,,", ("http://a:8200",)),
    ],
)
def test_vault_addr_lists_nodes(raw, addresses):
    assert from_env({"VAULT_ADDR": raw, **AUTH}).vault.addresses == addresses


def test_the_store_starts_on_the_first_node():
    store = VaultStore(VaultSettings(addr="http://a:8200,http://b:8200", token="t"))
    try:
        assert store.address == "http://a:8200"
    finally:
        store.close()


def test_no_address_is_refused():
    with pytest.raises(ValueError, match="address"):
        VaultStore(VaultSettings(addr=" , "))
