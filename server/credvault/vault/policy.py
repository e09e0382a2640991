"""The least-privilege Vault policy credvault ships (vault-policy.hcl)."""

from __future__ import annotations

from importlib.resources import files


def policy_text(mount: str, prefix: str) -> str:
    template = files("credvault.vault").joinpath("vault-policy.hcl").read_text()
    return template.replace("{mount}", mount).replace("{prefix}", prefix)
