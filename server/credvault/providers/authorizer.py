"""What a request to a provider carries, minting OAuth tokens where the provider needs them.

Minted tokens are kept in memory, per replica, by the client credentials they came from (a hash of
them, never the secret itself), and minted again before they expire: a token is handed out only while
more than `margin` of its life is left. Concurrent callers needing a token for the same credentials
wait for one mint. Tokens never reach Vault: a replica that restarts mints again.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace

import httpx
from cachetools import TLRUCache

from credvault.domain.model import Credentials, Verdict
from credvault.providers.auth import Authorization, ClientCredentials
from credvault.providers.oauth import Token, mint
from credvault.providers.registry import ProviderRegistry
from credvault.providers.spec import ProviderSpec

MAX_TOKENS = 10_000


def margin(lifetime: float) -> float:
    """How long before its expiry a token is replaced: 5 minutes, or a quarter of a short life."""
    return min(300.0, lifetime / 4)


class TokenCache:
    """Tokens by credential fingerprint, with one mint at a time per fingerprint."""

    def __init__(self, size: int = MAX_TOKENS, clock: Callable[[], float] = time.time) -> None:
        self._tokens: TLRUCache[str, Token] = TLRUCache(maxsize=size, ttu=self._until, timer=clock)
        self._minting: dict[str, asyncio.Future[Token | Verdict]] = {}

    async def get(
        self, key: str, mint: Callable[[], Awaitable[Token | Verdict]], *, fresh: bool = False
    ) -> Token | Verdict:
        """The cached token, or the result of one mint shared by everyone asking meanwhile. `fresh`
        skips the cache (a verification must ask the provider), but joins a mint under way."""
        if not fresh and (token := self._tokens.get(key)) is not None:
            return token
        pending = self._minting.get(key)
        if pending is None:
            pending = asyncio.ensure_future(mint())
            self._minting[key] = pending
            pending.add_done_callback(lambda done: self._minted(key, done))
        return await asyncio.shield(pending)  # one caller giving up does not cancel the others' mint

    def _minted(self, key: str, done: asyncio.Future[Token | Verdict]) -> None:
        self._minting.pop(key, None)
        if done.cancelled() or done.exception() is not None:  # also marks the exception as seen
            return
        result = done.result()
        if isinstance(result, Token):
            self._tokens[key] = result
        else:
            self._tokens.pop(key, None)  # rejected: an older token must not outlive its secret here

    @staticmethod
    def _until(key: str, token: Token, now: float) -> float:
        return token.expires_at.timestamp() - margin(token.lifetime)


class Authorizer:
    """Builds the `Authorization` for a connection's credentials; for client credentials it returns the
    token endpoint's verdict instead when the endpoint rejects them."""

    def __init__(self, registry: ProviderRegistry, http: httpx.AsyncClient, tokens: TokenCache) -> None:
        self._registry = registry
        self._http = http
        self._tokens = tokens

    async def authorize(
        self,
        spec: ProviderSpec,
        credentials: Credentials,
        config: Mapping[str, str],
        timeout: float,
        *,
        fresh: bool = False,
    ) -> Authorization | Verdict:
        scheme = spec.auth
        if not isinstance(scheme, ClientCredentials):
            return spec.authorization(credentials, config)
        url = self._registry.url(spec, "token", config)
        key = _fingerprint(
            spec.id, url, scheme.scope, credentials[scheme.client_id], credentials[scheme.client_secret]
        )
        result = await self._tokens.get(
            key,
            lambda: mint(self._http, scheme, url, credentials, timeout, spec.display_name),
            fresh=fresh,
        )
        if isinstance(result, Verdict):
            return result
        return replace(
            spec.authorization(credentials, config, token=result.value), expires_at=result.expires_at
        )


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()
