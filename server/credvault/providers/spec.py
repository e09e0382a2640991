"""The types a provider plugin is made of. A provider is mostly data plus one small verify function."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from credvault.domain.model import Credentials, Verdict


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


@dataclass(frozen=True)
class VerifyRequest:
    """What a provider's verify function gets: an HTTP client that follows no redirects, the
    credentials, the normalised config, the base URL and the auth headers built from them, and the
    seconds the call may take."""

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


HeaderBuilder = Callable[[Credentials, Mapping[str, str]], dict[str, str]]
Verifier = Callable[[VerifyRequest], Awaitable[Verdict]]
ConfigNormaliser = Callable[[Mapping[str, str]], dict[str, str]]
"""Returns the config in canonical form; raises InvalidArgumentError naming each bad field."""
ExpiryReader = Callable[[Mapping[str, str]], datetime | None]


@dataclass(frozen=True)
class ProviderSpec:
    """Everything credvault needs to know about one provider."""

    id: str
    display_name: str
    auth_mode: str
    """"bearer", "basic" or "api_key_header"."""
    docs_url: str
    fields: tuple[FieldSpec, ...]
    base_url_template: str
    """The API's base URL; `{name}` stands for the config field `name`."""
    build_headers: HeaderBuilder
    verify: Verifier
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

    def field(self, location: FieldLocation, name: str) -> FieldSpec | None:
        for candidate in self.fields:
            if candidate.location is location and candidate.name == name:
                return candidate
        return None
