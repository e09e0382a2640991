"""What the Connect page says: a failed submission turned into words next to the field it concerns, and
the reasons a link no longer works. Everything here is built from the provider's spec and the error's
reason and hint; nothing a person typed is ever put back on a page."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from credvault.domain.errors import CredvaultError, InvalidArgumentError
from credvault.providers.spec import FieldLocation, FieldSpec, ProviderSpec

_FIELD_PATH = re.compile(r"\b(config|credentials)\.([a-z][a-z0-9_]*)")


@dataclass
class Problems:
    """The errors of one submission: by field path, and those that concern no single field."""

    fields: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    described_by: dict[str, str] = field(default_factory=dict)
    """Field path → id of the error element describing it (a rejection may concern several fields)."""

    def any(self) -> bool:
        return bool(self.fields or self.general)


def field_id(spec_field: FieldSpec) -> str:
    return f"f-{spec_field.location.value}-{spec_field.name}"


def error_id(spec_field: FieldSpec) -> str:
    return f"e-{spec_field.location.value}-{spec_field.name}"


def in_words(text: str, spec: ProviderSpec) -> str:
    """Field paths (config.site) replaced by the labels the person sees on the form ("Site")."""

    def label(match: re.Match[str]) -> str:
        found = spec.field(FieldLocation(match.group(1)), match.group(2))
        return f"“{found.label}”" if found else match.group(0)

    return _FIELD_PATH.sub(label, text)


def problems_of(error: CredvaultError, spec: ProviderSpec, submissions_left: int) -> Problems:
    problems = Problems()
    paths = {f.path: f for f in spec.fields}
    if isinstance(error, InvalidArgumentError):
        for violation in error.violations:
            if violation.field in paths:
                problems.fields.setdefault(violation.field, _sentence(in_words(violation.description, spec)))
            else:
                problems.general.append(_sentence(in_words(violation.description, spec)))
    elif error.code == "FAILED_PRECONDITION" and "hint" in error.metadata:
        _rejection(problems, error, spec)
    else:
        problems.general.append(_outage(error, spec))
    for path, spec_field in paths.items():
        if path in problems.fields:
            problems.described_by.setdefault(path, error_id(spec_field))
    if submissions_left:
        tries = "try" if submissions_left == 1 else "tries"
        problems.general.append(f"Nothing was stored. This link allows {submissions_left} more {tries}.")
    else:
        problems.general.append("Nothing was stored. This link has no tries left: ask for a new link.")
    return problems


def _rejection(problems: Problems, error: CredvaultError, spec: ProviderSpec) -> None:
    """The provider said no: its hint goes next to the field the reason is about (SITE_NOT_FOUND: the
    site) or else the first field the hint names; failing both, next to the last credentials field
    (the secret the person will type again), described as concerning them all."""
    hint = error.metadata.get("hint", "")
    paths = {f.path: f for f in spec.fields}
    named = [paths[m.group(0)] for m in _FIELD_PATH.finditer(hint) if m.group(0) in paths]
    about = [
        f
        for f in spec.fields
        if f.location is FieldLocation.CONFIG and error.reason.startswith(f"{f.name.upper()}_")
    ]
    secrets = [f for f in spec.fields if f.location is FieldLocation.CREDENTIALS]
    target = next(iter(about + named), None)
    concerned = [target] if target else secrets
    if not concerned:
        problems.general.append(in_words(hint, spec))
        return
    shown = concerned[-1]
    problems.fields[shown.path] = in_words(hint, spec)
    for spec_field in concerned:
        problems.described_by[spec_field.path] = error_id(shown)


def _outage(error: CredvaultError, spec: ProviderSpec) -> str:
    wait = _wait(error.retry_after)
    if error.code == "RESOURCE_EXHAUSTED" or error.reason.endswith("RATE_LIMITED"):
        return f"{spec.display_name} is limiting how often it can be asked right now. Try again {wait}."
    if error.reason.startswith("PROVIDER_"):
        return (
            f"We could not reach {spec.display_name} to check these details (it did not answer or "
            f"answered with an error). Try again {wait}."
        )
    if error.reason.startswith("VAULT_"):
        return f"The credential store is not available just now. Try again {wait}."
    if error.code == "ALREADY_EXISTS":
        return "This account is already connected under this link's connection. Ask for a new link."
    return _sentence(in_words(error.message, spec))


def _wait(seconds: float | None) -> str:
    if seconds is None:
        return "in a minute"
    if seconds < 90:
        whole = max(math.ceil(seconds), 1)
        return f"in {whole} second{'s' if whole != 1 else ''}"
    return f"in {math.ceil(seconds / 60)} minutes"


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


LINK_PROBLEMS: Mapping[str, tuple[str, str]] = {
    "CONNECT_SESSION_NOT_FOUND": (
        "This link does not work",
        "It may be incomplete (copy the whole link) or it was never valid. Ask whoever sent it for a "
        "new one.",
    ),
    "CONNECT_SESSION_EXPIRED": (
        "This link has expired",
        "Links to connect an account work for a limited time. Ask whoever sent it for a new one.",
    ),
    "CONNECT_SESSION_SPENT": (
        "This link has no tries left",
        "It was used for too many attempts that did not succeed. Ask whoever sent it for a new one.",
    ),
    "CONNECT_SESSION_COMPLETED": (
        "This link was already used",
        "An account was connected with it, so it no longer works. If you need to connect again, ask for "
        "a new link.",
    ),
    "CONNECT_FRAME_WITHOUT_COOKIE": (
        "Open this link in its own window",
        "Inside the application's window your browser does not let this page remember you between "
        "steps. Ask for a new link and open it in a window or tab of its own.",
    ),
    "CONNECT_LINK_ALREADY_OPENED": (
        "This link was opened in another browser",
        "Continue in the browser where you first pressed Continue, or ask whoever sent the link for a "
        "new one.",
    ),
}
"""Reason → heading and explanation of the page shown when a link can't be used."""
