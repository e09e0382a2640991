"""Finding the provider plugins, checking them at start-up, and checking requests against them."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points
from urllib.parse import urlsplit

import httpx

from credvault.domain.errors import ConfigError, FieldViolation, InvalidArgumentError
from credvault.domain.model import Credentials
from credvault.providers.auth import ByConfig, ClientCredentials
from credvault.providers.spec import FieldLocation, FieldSpec, ProviderSpec

ENTRY_POINT_GROUP = "credvault.providers"
PROVIDER_ID = re.compile(r"[a-z][a-z0-9-]{1,62}")
FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
TYPED_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,62}")
"""An unknown field's name is echoed as typed when it looks like a name (`apiKey`); anything else might
be a pasted secret, and shows as `<field>`."""
MAX_LABELS = 64
LABEL_KEY = re.compile(r"[a-z0-9]([a-z0-9_.-]{0,62})")
MAX_LABEL_VALUE = 256
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ProviderRegistry:
    """The loaded providers, with the operator's base-URL overrides applied."""

    def __init__(self, providers: Iterable[ProviderSpec], url_overrides: Mapping[str, str]) -> None:
        self._providers = {spec.id: spec for spec in sorted(providers, key=lambda s: s.id)}
        url_overrides = {_url_key(key): template for key, template in url_overrides.items()}
        for key, template in url_overrides.items():
            provider_id, _, name = key.partition(".")
            spec = self._providers.get(provider_id)
            if spec is None:
                raise ConfigError(
                    f"CREDVAULT_PROVIDER_URLS names provider {provider_id!r}, which is not installed"
                )
            if name and name not in spec.urls:
                known = ", ".join(f"{spec.id}.{n}" for n in spec.urls) or "none"
                raise ConfigError(
                    f"CREDVAULT_PROVIDER_URLS names {key!r}, which {spec.id} does not have (it has: {known})"
                )
            _check_template(spec, template, f"CREDVAULT_PROVIDER_URLS[{key!r}]")
        self._overrides = dict(url_overrides)

    @classmethod
    def discover(cls, url_overrides: Mapping[str, str]) -> ProviderRegistry:
        return cls(load_entry_points(entry_points(group=ENTRY_POINT_GROUP)), url_overrides)

    def all(self) -> list[ProviderSpec]:
        return list(self._providers.values())

    def find(self, provider_id: str) -> ProviderSpec | None:
        return self._providers.get(provider_id)

    def get(self, provider_id: str) -> ProviderSpec:
        """The provider a request names; INVALID_ARGUMENT on `provider` when there is none."""
        spec = self._providers.get(provider_id)
        if spec is None:
            known = ", ".join(self._providers)
            raise InvalidArgumentError(
                [FieldViolation("provider", f"unknown provider; ListProviders lists them: {known}")]
            )
        return spec

    def template(self, spec: ProviderSpec) -> str:
        return self._overrides.get(spec.id, spec.base_url_template)

    def base_url(self, spec: ProviderSpec, config: Mapping[str, str]) -> str:
        """Renders the base URL and, unless the operator overrode it, checks its host."""
        return self._render(spec, spec.id, self.template(spec), spec.base_url_template, config)

    def url(self, spec: ProviderSpec, name: str, config: Mapping[str, str]) -> str:
        """Renders the provider's other URL `name` (see `ProviderSpec.urls`) like the base URL; the
        operator overrides it as `CREDVAULT_PROVIDER_URLS["<provider id>.<name>"]`."""
        key = f"{spec.id}.{name}"
        return self._render(spec, key, self._overrides.get(key, spec.urls[name]), spec.urls[name], config)

    def _render(
        self, spec: ProviderSpec, key: str, template: str, own_template: str, config: Mapping[str, str]
    ) -> str:
        values = {**config, **{name: derive(config) for name, derive in spec.derived.items()}}
        url = template.format_map(_Blank(values)).rstrip("/")
        if key not in self._overrides and not _host_allowed(url, spec.allowed_hosts):
            fields = _template_fields(own_template) or {"provider"}
            raise InvalidArgumentError(
                [
                    FieldViolation(f"config.{name}", f"does not name a {spec.display_name} host")
                    for name in sorted(fields)
                ]
            )
        return url

    def check_input(
        self,
        spec: ProviderSpec,
        credentials: Mapping[str, str],
        config: Mapping[str, str],
    ) -> tuple[Credentials, dict[str, str]]:
        """Checks credentials and config against the provider's fields; returns them with the config
        normalised. Raises InvalidArgumentError naming every bad field, and changes nothing."""
        violations = [
            *_check_fields(spec, FieldLocation.CREDENTIALS, credentials),
            *_check_fields(spec, FieldLocation.CONFIG, config),
        ]
        if violations:
            raise InvalidArgumentError(violations)
        present = {k: v for k, v in config.items() if v}
        normalised = spec.normalise_config(present) if spec.normalise_config else present
        self.base_url(spec, normalised)
        return Credentials(credentials), normalised


def check_labels(labels: Mapping[str, str]) -> list[FieldViolation]:
    violations = []
    if len(labels) > MAX_LABELS:
        violations.append(FieldViolation("labels", f"at most {MAX_LABELS} labels"))
    for key, value in labels.items():
        if not LABEL_KEY.fullmatch(key):
            violations.append(
                FieldViolation(
                    "labels", "keys are 1 to 63 characters of a-z 0-9 . _ -, starting with a-z 0-9"
                )
            )
        elif len(value) > MAX_LABEL_VALUE or _CONTROL.search(value):
            violations.append(
                FieldViolation(
                    f"labels.{key}", f"at most {MAX_LABEL_VALUE} characters, no control characters"
                )
            )
    return violations


def _check_fields(
    spec: ProviderSpec, location: FieldLocation, values: Mapping[str, str]
) -> list[FieldViolation]:
    violations = []
    names = [f.name for f in spec.fields if f.location is location]
    for name in values:
        if spec.field(location, name) is None:
            shown = name if TYPED_NAME.fullmatch(name) else "<field>"
            message = f"not a field of {spec.id} (expected: {', '.join(names) or 'none'})"
            snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).replace("-", "_").lower()
            if snake in names:
                message += f"; did you mean {snake}?"
            violations.append(FieldViolation(f"{location.value}.{shown}", message))
    for field in spec.fields:
        if field.location is location:
            problem = _field_problem(field, values.get(field.name, ""))
            if problem:
                violations.append(FieldViolation(field.path, problem))
    return violations


def _field_problem(field: FieldSpec, value: str) -> str | None:
    if not value:
        return f"required: {field.description}" if field.required else None
    if len(value) > field.max_length:
        return f"longer than {field.max_length} characters"
    if _CONTROL.search(value):
        return "contains control characters (a stray newline when pasting?)"
    if field.pattern and not re.fullmatch(field.pattern, value):
        example = f", e.g. {field.example}" if field.example else ""
        return f"is not a valid {field.label}{example}"
    return None


def _host_allowed(url: str, allowed_hosts: str) -> bool:
    """Whether `url` is https, without user or port, on a host `allowed_hosts` matches in full. Read by
    `httpx.URL`, the parser of the client that will send the request, so what is checked is what is
    called. Non-ASCII is refused: the client would map it to other hosts (IDNA; `。` to `.`)."""
    if not url.isascii():
        return False
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return False
    if parsed.scheme != "https" or parsed.userinfo or parsed.port is not None or not parsed.host:
        return False
    return re.fullmatch(allowed_hosts, parsed.host) is not None if allowed_hosts else True


def _template_fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _check_template(spec: ProviderSpec, template: str, where: str) -> None:
    config_fields = {f.name for f in spec.fields if f.location is FieldLocation.CONFIG} | set(spec.derived)
    try:
        unknown = _template_fields(template) - config_fields
    except ValueError as exc:
        raise ConfigError(f"{where}: malformed template ({exc})") from None
    if unknown:
        raise ConfigError(f"{where}: {sorted(unknown)} are not config fields of {spec.id}")
    if not template.startswith(("https://", "http://")):
        raise ConfigError(f"{where}: must start with https:// or http://")
    if "@" in urlsplit(template).netloc:
        raise ConfigError(
            f"{where}: holds a user name or password (user:password@host); credentials belong in "
            "connections, never in URLs, which are logged and shown"
        )


class _Blank(dict[str, str]):
    """Renders absent optional fields as empty strings."""

    def __missing__(self, key: str) -> str:
        return ""


def load_entry_points(points: Iterable[EntryPoint]) -> list[ProviderSpec]:
    """Loads and checks every provider plugin; a broken one stops start-up with an error naming it."""
    specs: dict[str, tuple[ProviderSpec, str]] = {}
    for point in points:
        origin = f"plugin {point.name!r} ({point.value})"
        try:
            spec = point.load()
        except Exception as exc:
            raise ConfigError(f"{origin} failed to load: {type(exc).__name__}: {exc}") from exc
        if not isinstance(spec, ProviderSpec):
            raise ConfigError(f"{origin} is a {type(spec).__name__}, not a credvault ProviderSpec")
        if spec.id != point.name:
            raise ConfigError(f"{origin} declares id {spec.id!r}; the entry point must be named the same")
        if spec.id in specs:
            raise ConfigError(f"{origin} and {specs[spec.id][1]} both provide {spec.id!r}")
        check_spec(spec, origin)
        specs[spec.id] = (spec, origin)
    return [spec for spec, _ in specs.values()]


def check_spec(spec: ProviderSpec, origin: str) -> None:
    if not PROVIDER_ID.fullmatch(spec.id):
        raise ConfigError(f"{origin}: id must match {PROVIDER_ID.pattern}")
    seen = set()
    for field in spec.fields:
        key = (field.location, field.name)
        if key in seen or not FIELD_NAME.fullmatch(field.name):
            raise ConfigError(f"{origin}: field {field.name!r} is duplicated or badly named")
        seen.add(key)
        try:
            re.compile(field.pattern)
        except re.error as exc:
            raise ConfigError(f"{origin}: field {field.name!r} has a bad pattern: {exc}") from None
    try:
        re.compile(spec.allowed_hosts)
    except re.error as exc:
        raise ConfigError(f"{origin}: bad allowed_hosts pattern: {exc}") from None
    for name in spec.derived:
        if not FIELD_NAME.fullmatch(name) or spec.field(FieldLocation.CONFIG, name) is not None:
            raise ConfigError(f"{origin}: derived placeholder {name!r} is badly named or shadows a field")
    _check_template(spec, spec.base_url_template, origin)
    for name, template in spec.urls.items():
        if not FIELD_NAME.fullmatch(name):
            raise ConfigError(f"{origin}: URL name {name!r} must match {FIELD_NAME.pattern}")
        _check_template(spec, template, f"{origin} URL {name!r}")
    _check_declarations(spec, origin)


def _check_declarations(spec: ProviderSpec, origin: str) -> None:
    """A provider says how requests authenticate (`auth`, or `build_headers`) and how credentials are
    checked (`check`, or `verify`), and names only fields it has."""
    if spec.auth is None and not callable(spec.build_headers):
        raise ConfigError(f"{origin}: declare auth (or give a build_headers callable)")
    if spec.check is None and not callable(spec.verify):
        raise ConfigError(f"{origin}: declare check (or give a verify callable)")
    schemes = list(spec.auth.choices.values()) if isinstance(spec.auth, ByConfig) else [spec.auth]
    credentials = {f.name for f in spec.fields if f.location is FieldLocation.CREDENTIALS}
    for scheme in schemes:
        names = {getattr(scheme, a, None) for a in ("field", "username", "password", "client_id")}
        names.add(getattr(scheme, "client_secret", None))
        missing = sorted(n for n in names if isinstance(n, str) and n not in credentials)
        if missing:
            raise ConfigError(f"{origin}: auth reads {missing}, which are not credential fields")
        methods = scheme.client_auth if isinstance(scheme, ClientCredentials) else ("body",)
        if not methods or not set(methods) <= {"body", "basic"}:
            raise ConfigError(f"{origin}: client_auth must list 'body' and/or 'basic'")
    config = {f.name for f in spec.fields if f.location is FieldLocation.CONFIG}
    if isinstance(spec.auth, ByConfig) and spec.auth.field not in config:
        raise ConfigError(f"{origin}: auth is chosen by {spec.auth.field!r}, which is not a config field")
    if not set(spec.config_headers.values()) <= config:
        raise ConfigError(f"{origin}: config_headers name fields that are not config fields")


def _url_key(key: str) -> str:
    """`<provider id>:<name>` (e.g. `jumpcloud-service-account:token`) is `<provider id>.<name>`."""
    return key.replace(":", ".", 1) if "." not in key else key
