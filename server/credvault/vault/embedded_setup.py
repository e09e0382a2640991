"""First-time set-up of the embedded OpenBao, with a root token that only ever lives in memory.

Initialisation gives an unseal key (saved at once, see `credvault.vault.unseal_key`) and a root token
(never saved). The root token sets up the KV mount, the least-privilege policy and an AppRole whose
secret-id and tokens work from loopback only, then is revoked. When the first start dies half-way, nothing
was stored yet and the next start begins again.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import hvac

from credvault.vault.policy import policy_text
from credvault.vault.unseal_key import write_private

log = logging.getLogger(__name__)

ROLE = "credvault"
LOOPBACK = ["127.0.0.1/32"]
"""Where the AppRole's secret-id and tokens may be used from: OpenBao listens on loopback only."""
APPROLE_FILE = "approle.json"
PENDING_FILE = "setup-pending"
"""Present from just before initialisation until set-up is done: a data directory holding it (and no
AppRole credentials) never served, so it holds nothing and a start may begin again."""


def initialise(client: hvac.Client) -> tuple[str, str]:
    """Initialises a new OpenBao with one key share; returns (unseal key, root token)."""
    answer = client.sys.initialize(secret_shares=1, secret_threshold=1)
    return str(answer["keys"][0]), str(answer["root_token"])


def set_up(client: hvac.Client, root_token: str, data_dir: Path, mount: str, prefix: str) -> None:
    """Sets up the mount, policy and AppRole with the root token, writes the AppRole credentials, then
    revokes the root token. Safe to run again after a start that stopped half-way."""
    client.token = root_token
    try:
        if f"{mount}/" not in client.sys.list_mounted_secrets_engines()["data"]:
            client.sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})
        client.sys.create_or_update_policy(ROLE, policy_text(mount, prefix))
        if "approle/" not in client.sys.list_auth_methods()["data"]:
            client.sys.enable_auth_method("approle")
        client.auth.approle.create_or_update_approle(
            ROLE,
            token_policies=[ROLE],
            token_ttl="1h",
            token_max_ttl="24h",
            secret_id_ttl="0",
            secret_id_bound_cidrs=LOOPBACK,
            token_bound_cidrs=LOOPBACK,
        )
        role_id = client.auth.approle.read_role_id(ROLE)["data"]["role_id"]
        secret_id = client.auth.approle.generate_secret_id(ROLE, cidr_list=LOOPBACK)["data"]["secret_id"]
        approle = {"role_id": role_id, "secret_id": secret_id, "bound_to": LOOPBACK}
        write_private(data_dir / APPROLE_FILE, json.dumps(approle))
    finally:
        client.auth.token.revoke_self()
        client.token = ""
    log.info("set up the embedded OpenBao: KV mount %s/, policy and AppRole %s", mount, ROLE)
