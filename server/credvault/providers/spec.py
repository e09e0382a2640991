"""The types a provider plugin is made of. A provider is mostly data plus one small verify function."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

import httpx

from credvault.domain.model import Credentials, Verdict
from credvault.providers.auth import Authorization, ClientCredentials, Scheme, static_authorization

if TYPE_CHECKING:
    from credvault.providers.check import Check


class FieldLocation(enum.Enum):
    CREDENTIALS = "credentials"
    CONFIG = "config"


@dataclass(frozen=True)
class FieldSpec:
    """One field a provider asks for. Fields in `credentials` are secret; fields in `config` are not."""

    name: str
    label: str
    description: str
    location: FieldLocation
    required: bool = True
    pattern: str = ""
    """A regular expression the whole value must match; empty: any value up to `max_length`.
    Keep it lenient where the vendor documents no format: the test call is the real check."""
    example: str = ""
    max_length: int = 1024
    placeholder: str = ""
    """Text for the empty input, e.g. `jca_...` (never a real secret)."""
    help_text: str = ""
    """Where to find the value, in words a person who is not a developer follows."""

    @property
    def secret(self) -> bool:
        return self.location is FieldLocation.CREDENTIALS

    @property
    def path(self) -> str:
        """The field's name as a client sees it in a request, e.g. `credentials.api_key`."""
        return f"{self.location.value}.{self.name}"


def credential(
    name: str, label: str, description: str, *, pattern: str = "", example: str = "", max_length: int = 1024
) -> FieldSpec:
    """A required, secret field."""
    return FieldSpec(name, label, description, FieldLocation.CREDENTIALS, True, pattern, example, max_length)


def setting(
    name: str,
    label: str,
    description: str,
    *,
    required: bool = False,
    pattern: str = "",
    example: str = "",
    max_length: int = 1024,
) -> FieldSpec:
    """A config field (not secret), optional unless `required`."""
    return FieldSpec(name, label, description, FieldLocation.CONFIG, required, pattern, example, max_length)


@dataclass(frozen=True)
class VerifyRequest:
    """What a provider's verify function gets: an HTTP client that follows no redirects, the
    credentials, the normalised config, the base URL and the auth headers (and query parameters) built
    from them, and the seconds the call may take."""

    http: httpx.AsyncClient
    credentials: Credentials
    config: Mapping[str, str]
    base_url: str
    headers: Mapping[str, str] = field(repr=False)
    timeout: float
    render_base_url: Callable[[Mapping[str, str]], str]
    """Renders the base URL for another config (e.g. once a cloud id has been resolved)."""
    render_url: Callable[[str, Mapping[str, str]], str]
    """Renders one of the provider's other URLs (`ProviderSpec.urls`) by name for a config."""
    query_params: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Credentials that go in the query (`auth.QueryParam`); `http.send` adds them to every request."""


HeaderBuilder = Callable[[Credentials, Mapping[str, str]], dict[str, str]]
Verifier = Callable[[VerifyRequest], Awaitable[Verdict]]
ConfigNormaliser = Callable[[Mapping[str, str]], dict[str, str]]
"""Returns the config in canonical form; raises InvalidArgumentError naming each bad field."""
ExpiryReader = Callable[[Mapping[str, str]], datetime | None]


@dataclass(frozen=True)
class ProviderSpec:
    """Everything credvault needs to know about one provider: mostly data. `auth` says how requests
    carry the credentials, `check` which test call verifies them and how to read its answers; `verify`
    replaces `check` where a table can't say it (e.g. a lookup before the test call)."""

    id: str
    display_name: str
    docs_url: str
    fields: tuple[FieldSpec, ...]
    base_url_template: str
    """The API's base URL; `{name}` stands for the config field `name`."""
    auth: Scheme | None = None
    check: Check | None = None
    verify: Verifier | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    """Headers every request carries besides the credentials, e.g. `Accept: application/json`."""
    config_headers: Mapping[str, str] = field(default_factory=dict)
    """Headers taken from config fields when they are set: header name -> config field name."""
    auth_mode: str = ""
    """Derived from `auth`; set it only with `build_headers`."""
    build_headers: HeaderBuilder | None = None
    """Instead of `auth`: builds the headers in code."""
    allowed_hosts: str = ""
    """A regular expression every host of the rendered base URL must match in full, checked before any
    request is made. Empty: the template has no user-supplied host part."""
    normalise_config: ConfigNormaliser | None = None
    expires_at: ExpiryReader | None = None
    """Reads the credentials' expiry from the config, for providers whose tokens expire."""
    derived: Mapping[str, Callable[[Mapping[str, str]], str]] = field(default_factory=dict)
    """Placeholders the URL templates may use besides the config fields, computed from the config
    (e.g. JumpCloud's console host from its region)."""
    urls: Mapping[str, str] = field(default_factory=dict)
    """Other URL templates verification calls besides the base URL, by name (e.g. a lookup on the
    user's site). Their hosts are checked like the base URL's; operators override them as
    `CREDVAULT_PROVIDER_URLS["<provider id>.<name>"]`."""

    setup_steps: tuple[str, ...] = ()
    """How to find or create the credentials, one step per entry, in order (shown by ListProviders)."""
    warnings: tuple[str, ...] = ()
    """What a person should know before starting, e.g. that a new key revokes the old one."""

    def __post_init__(self) -> None:
        if self.auth is not None:
            object.__setattr__(self, "auth_mode", self.auth.mode)
            if isinstance(self.auth, ClientCredentials):
                object.__setattr__(self, "urls", {**self.urls, "token": self.auth.token_url})

    @property
    def mints_tokens(self) -> bool:
        return isinstance(self.auth, ClientCredentials)

    def authorization(
        self, credentials: Credentials, config: Mapping[str, str], token: str = ""
    ) -> Authorization:
        """What a request carries: the declared credentials (with `token` when the scheme mints one),
        the fixed headers and the headers from config."""
        if isinstance(self.auth, ClientCredentials):
            auth = Authorization(headers=self.auth.bearer(token))
        elif self.auth is not None:
            auth = static_authorization(self.auth, credentials, config)
        else:
            auth = Authorization(
                headers=self.build_headers(credentials, config) if self.build_headers else {}
            )
        from_config = {name: config[key] for name, key in self.config_headers.items() if config.get(key)}
        return replace(auth, headers={**auth.headers, **self.headers, **from_config})

    def field(self, location: FieldLocation, name: str) -> FieldSpec | None:
        for candidate in self.fields:
            if candidate.location is location and candidate.name == name:
                return candidate
        return None
