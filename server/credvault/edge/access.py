"""The access policy file: who the callers are and what each may do.

A JSON object (`CREDVAULT_ACCESS_POLICY` names the file), read once at start-up and checked then:

    {"callers": {
        "connect-backend": {"tokens_sha256": ["<sha256 hex of the token>"],
                            "tenants": ["*"],
                            "methods": ["CreateConnection", "UpdateConnection", "VerifyConnection",
                                        "DeleteConnection", "GetConnection", "ListConnections"]},
        "billing-worker.internal": {"tenants": ["acme", "globex"], "methods": ["GetAuthHeaders"]}}}

Callers are of two kinds, which never stand in for each other:
- a *token caller* is an entry with `tokens_sha256` (SHA-256 hex digests of its bearer tokens; a list, so
  a token can be rotated without downtime). Only a bearer token whose digest is listed names it; no
  certificate ever does, whatever its names.
- a *certificate caller* is an entry without `tokens_sha256`. A client certificate names it by a subject
  alternative name (DNS, URI such as a SPIFFE id) equal to the entry's name; by its common name only
  when the certificate has no subject alternative name at all. A certificate whose names match more
  than one caller is refused.
Only digests are stored: the file is not a secret worth stealing. `tenants` and `methods` list what the
caller may touch; `"*"` means all. ListProviders is open to every identified caller.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credvault.domain.errors import ConfigError
from credvault.domain.model import ID_PATTERN
from credvault.v1 import credvault_pb2

METHODS = frozenset(m.name for m in credvault_pb2.DESCRIPTOR.services_by_name["CredentialVault"].methods)
ANY = "*"
_DIGEST = re.compile(r"[0-9a-f]{64}")
EMPTY_DIGEST = hashlib.sha256(b"").hexdigest()
"""What `printf %s "$TOKEN" | sha256sum` gives when $TOKEN is unset: never a caller's token."""


@dataclass(frozen=True)
class Grant:
    """What one caller may do."""

    tenants: frozenset[str]
    methods: frozenset[str]
    token_digests: tuple[str, ...] = ()

    def allows(self, method: str, tenant_id: str | None) -> bool:
        if ANY not in self.methods and method not in self.methods:
            return False
        return tenant_id is None or ANY in self.tenants or tenant_id in self.tenants


class AccessPolicy:
    """The callers of the policy file, by name."""

    def __init__(self, grants: Mapping[str, Grant]) -> None:
        self._grants = dict(grants)

    @classmethod
    def load(cls, path: Path) -> AccessPolicy:
        """Reads and checks the file; ConfigError says what is wrong and where."""
        where = f"CREDVAULT_ACCESS_POLICY ({path})"
        try:
            document = json.loads(path.read_text())
        except OSError as exc:
            raise ConfigError(f"{where} cannot be read: {exc.strerror}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{where} is not valid JSON: {exc}") from None
        callers = document.get("callers") if isinstance(document, dict) else None
        if not isinstance(callers, dict) or not callers:
            raise ConfigError(f'{where} must be a JSON object {{"callers": {{"<name>": {{...}}}}}}')
        return cls({name: _grant(f"{where}: caller {name!r}", entry) for name, entry in callers.items()})

    def grant(self, name: str) -> Grant | None:
        return self._grants.get(name)

    def caller_for_token(self, token: str) -> str | None:
        """The token caller the token belongs to; None for an empty or unknown token. Every digest is
        compared, in constant time, whatever matches."""
        if not token:
            return None
        digest = hashlib.sha256(token.encode()).hexdigest()
        found = None
        for name, grant in self._grants.items():
            for known in grant.token_digests:
                if hmac.compare_digest(digest, known) and found is None:
                    found = name
        return found

    def callers_for_certificate(self, alternative_names: Iterable[str], common_name: str | None) -> set[str]:
        """The certificate callers a certificate's names match: by subject alternative name, or by
        common name when it has none. More than one means the certificate is ambiguous."""
        sans = set(alternative_names)
        names = sans if sans else ({common_name} if common_name else set())
        return {n for n in names if (grant := self._grants.get(n)) is not None and not grant.token_digests}


def _grant(where: str, entry: Any) -> Grant:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be an object with tenants, methods and optionally tokens_sha256")
    unknown = set(entry) - {"tenants", "methods", "tokens_sha256"}
    if unknown:
        raise ConfigError(f"{where} has unknown keys {sorted(unknown)}")
    tenants = _strings(where, entry, "tenants")
    methods = _strings(where, entry, "methods")
    digests = _strings(where, entry, "tokens_sha256", required=False)
    bad_tenants = [t for t in tenants if t != ANY and not ID_PATTERN.fullmatch(t)]
    if bad_tenants:
        raise ConfigError(f"{where}: {bad_tenants} are not tenant ids or {ANY!r}")
    bad_methods = sorted(set(methods) - METHODS - {ANY})
    if bad_methods:
        raise ConfigError(f"{where}: {bad_methods} are not methods; use {sorted(METHODS)} or {ANY!r}")
    if any(not _DIGEST.fullmatch(d) for d in digests):
        raise ConfigError(
            f"{where}: tokens_sha256 holds SHA-256 hex digests (64 characters 0-9a-f), never tokens"
        )
    if EMPTY_DIGEST in digests:
        raise ConfigError(
            f"{where}: tokens_sha256 holds the SHA-256 of the empty string (was the token variable unset "
            "when the digest was made?); it would let a caller in with no token"
        )
    if "tokens_sha256" in entry and not digests:
        raise ConfigError(
            f"{where}: tokens_sha256 is empty; list the token digests, or remove the key to make the caller "
            "a certificate caller"
        )
    return Grant(frozenset(tenants), frozenset(methods), tuple(digests))


def _strings(where: str, entry: dict[str, Any], key: str, *, required: bool = True) -> list[str]:
    value = entry.get(key, None if required else [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {key} must be a list of strings")
    return value
