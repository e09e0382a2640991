"""How a request to a provider carries the credentials, declared on the spec as data.

A scheme names the credential fields it reads. `ListProviders` reports its `mode`; `GetAuthHeaders`
hands out what `authorization` builds. OAuth 2.0 client credentials need a token minted first (see
`oauth.py`); every other scheme is built from the stored fields alone.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from credvault.domain.model import Credentials


@dataclass(frozen=True)
class Authorization:
    """What one request to the provider carries; its repr hides every value."""

    headers: Mapping[str, str] = field(repr=False)
    query_params: Mapping[str, str] = field(default_factory=dict, repr=False)
    expires_at: datetime | None = None
    """When this authorization stops working (a minted token's expiry), if it does."""


@dataclass(frozen=True)
class Header:
    """The key as the value of a header, e.g. `x-api-key: <key>`."""

    name: str
    field: str = "api_key"
    mode = "api_key_header"

    def headers(self, credentials: Credentials, config: Mapping[str, str]) -> dict[str, str]:
        return {self.name: credentials[self.field]}


@dataclass(frozen=True)
class Basic:
    """HTTP basic auth from two credential fields."""

    username: str
    password: str
    mode = "basic"

    def headers(self, credentials: Credentials, config: Mapping[str, str]) -> dict[str, str]:
        return {"Authorization": basic_auth(credentials[self.username], credentials[self.password])}


@dataclass(frozen=True)
class Bearer:
    """`Authorization: Bearer <token>`."""

    field: str = "token"
    mode = "bearer"

    def headers(self, credentials: Credentials, config: Mapping[str, str]) -> dict[str, str]:
        return {"Authorization": f"Bearer {credentials[self.field]}"}


@dataclass(frozen=True)
class QueryParam:
    """The key in the URL's query, e.g. `?api_key=<key>` (GetAuthHeaders returns it in query_params)."""

    name: str
    field: str = "api_key"
    mode = "query_param"

    def headers(self, credentials: Credentials, config: Mapping[str, str]) -> dict[str, str]:
        return {}

    def query_params(self, credentials: Credentials) -> dict[str, str]:
        return {self.name: credentials[self.field]}


@dataclass(frozen=True)
class ClientCredentials:
    """OAuth 2.0 client credentials (RFC 6749 §4.4): a token minted from a client id and secret, sent
    as a Bearer token. The token URL is the provider's URL named `token`; operators override it as
    `CREDVAULT_PROVIDER_URLS["<provider id>:token"]`."""

    token_url: str
    """A URL template like the base URL's."""
    client_id: str = "client_id"
    client_secret: str = "client_secret"
    scope: str = ""
    client_auth: tuple[str, ...] = ("body",)
    """How the client authenticates at the token endpoint, tried in order while it answers
    invalid_client: "body" (client_id and client_secret in the form) or "basic" (HTTP basic)."""
    lifetime: float = 3600.0
    """Seconds a token lives when the answer has no expires_in."""
    rejected_hint: str = (
        "The token endpoint did not accept the client ID and secret: they are mistyped, or the secret "
        "was revoked or has expired. Create a new client secret and update the connection."
    )
    scope_hint: str = "The token endpoint refused the scope credvault asks for; check the client's scopes."
    mode = "oauth2_client_credentials"

    def bearer(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class ByConfig:
    """A config field chooses the scheme, e.g. basic or bearer for the same token."""

    field: str
    choices: Mapping[str, Header | Basic | Bearer | QueryParam]
    default: str

    @property
    def mode(self) -> str:
        """The choices' modes, comma-separated, default first (e.g. "basic,bearer")."""
        modes = [self.choices[self.default].mode]
        modes += [s.mode for s in self.choices.values() if s.mode not in modes]
        return ",".join(modes)

    def chosen(self, config: Mapping[str, str]) -> Header | Basic | Bearer | QueryParam:
        return self.choices.get(config.get(self.field) or self.default, self.choices[self.default])

    def headers(self, credentials: Credentials, config: Mapping[str, str]) -> dict[str, str]:
        return self.chosen(config).headers(credentials, config)


StaticScheme = Header | Basic | Bearer | QueryParam | ByConfig
"""The schemes built from the stored fields alone."""
Scheme = StaticScheme | ClientCredentials


def static_authorization(
    scheme: StaticScheme, credentials: Credentials, config: Mapping[str, str]
) -> Authorization:
    chosen = scheme.chosen(config) if isinstance(scheme, ByConfig) else scheme
    query = chosen.query_params(credentials) if isinstance(chosen, QueryParam) else {}
    return Authorization(headers=chosen.headers(credentials, config), query_params=query)


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
