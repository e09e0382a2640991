"""Atlassian Cloud sites: what people paste, turned into a site host, and refused when it is not one.

A site is always checked here, whether or not the operator overrides a provider's base URL: the
override decides where requests go (an egress proxy, a test server), but the site value still lands in
that URL, so it must never carry a port, userinfo, a path or a host outside Atlassian Cloud.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx

from credvault.domain.errors import FieldViolation
from credvault.providers.check import body_text

__all__ = ["body_text", "normalise_site", "site_unavailable", "site_violation"]

CLOUD_DOMAINS = ("atlassian.net", "jira.com", "atlassian-us-gov-mod.net")
"""Where Atlassian Cloud sites live: `atlassian.net`, legacy `jira.com` sites, and the US government
cloud."""

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
SITE_HOST = re.compile(rf"{_LABEL}\.(?:{'|'.join(re.escape(d) for d in CLOUD_DOMAINS)})")
"""A site host: one DNS label under one of the Cloud domains, e.g. `acme.atlassian.net`."""

SITE_HOSTS = SITE_HOST.pattern
"""`SITE_HOST` as a provider's `allowed_hosts` pattern."""

SITE_PATTERN = r"\s*[\x21-\x7e]{1,2048}\s*"
"""The field pattern: printable ASCII; `normalise_site` does the real check and says what is wrong."""

SITE_RULE = (
    "must be your Atlassian Cloud site, e.g. acme, acme.atlassian.net or https://acme.atlassian.net/jira "
    "(no port, user name or other domain)"
)


class SiteError(ValueError):
    """The value is not an Atlassian Cloud site; the message says why without echoing it."""


def normalise_site(value: str) -> str:
    """Returns the site host (`acme.atlassian.net`) for what a person pastes: a bare site name, a host,
    or a URL of any page on the site. Raises SiteError for anything else."""
    text = value.strip()
    if not text or any(c.isspace() or not c.isascii() for c in text) or "\\" in text:
        raise SiteError("contains spaces, backslashes or non-ASCII characters")
    parts = urlsplit(text if "://" in text else f"https://{text}")
    if parts.scheme not in ("https", "http"):
        raise SiteError("must be an https:// address")
    if "@" in parts.netloc:
        raise SiteError("must not contain a user name or password")
    host = parts.netloc.lower()
    if ":" in host or host.startswith("["):
        raise SiteError("must not contain a port or an IP address")
    host = host.removesuffix(".")
    if re.fullmatch(r"[0-9.]+|0x[0-9a-f.x]+", host):
        raise SiteError("must be a site name, not an IP address")
    if "." not in host:
        host = f"{host}.atlassian.net"
    if not SITE_HOST.fullmatch(host):
        domains = ", ".join(f"*.{d}" for d in CLOUD_DOMAINS)
        raise SiteError(f"is not an Atlassian Cloud site ({domains})")
    return host


def site_violation(field: str, value: str) -> tuple[str | None, FieldViolation | None]:
    """The normalised site, or the violation to report on `field`."""
    try:
        return normalise_site(value), None
    except SiteError as error:
        return None, FieldViolation(field, f"{error}; {SITE_RULE}")


def site_unavailable(response: httpx.Response) -> bool:
    """Atlassian's answer for a site (or cloud id) that does not exist:
    404 `{"errorMessage":"Site temporarily unavailable","errorCode":"OTHER"}` (older: no errorCode)."""
    return response.status_code == 404 and "site temporarily unavailable" in body_text(response)
