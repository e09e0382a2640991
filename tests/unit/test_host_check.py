"""The host check on base URLs built from user input (the seam every provider with a user-supplied host
uses): whatever a caller puts in a config field, the URL credvault would call is either refused or on
one of the provider's hosts, over https, with no credentials or port smuggled into it."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credvault.domain.errors import InvalidArgumentError
from credvault.domain.model import Credentials, Verdict
from credvault.providers.registry import ProviderRegistry
from credvault.providers.spec import FieldLocation, FieldSpec, ProviderSpec, VerifyRequest

ALLOWED = r"[a-z0-9][a-z0-9-]*\.example\.net"


async def _verify(request: VerifyRequest) -> Verdict:
    raise AssertionError("never called")


def _headers(credentials: Credentials, config: object) -> dict[str, str]:
    return {}


SITE_PROVIDER = ProviderSpec(
    id="site-provider",
    display_name="Site provider",
    auth_mode="bearer",
    docs_url="https://example.net/docs",
    fields=(FieldSpec("site", "site", "The site's host name.", FieldLocation.CONFIG),),
    base_url_template="https://{site}/rest",
    allowed_hosts=ALLOWED,
    build_headers=_headers,
    verify=_verify,
)
REGISTRY = ProviderRegistry([SITE_PROVIDER], {})

HOSTILE = [
    "evil.com",
    "127.0.0.1",
    "localhost",
    "169.254.169.254",
    "[::1]",
    "acme.example.net.evil.com",
    "acme.example.net@evil.com",
    "evil.com@acme.example.net",
    "evil.com\\@acme.example.net",
    "acme.example.net:8443",
    "acme.example.net:80",
    "evil.com/acme.example.net",
    "evil.com#acme.example.net",
    "evil.com?acme.example.net",
    "acme.example.net%2f@evil.com",
    "user:pass@acme.example.net",
    "acme.example.net\r\nHost: evil.com",
    "",
    "example.net",
    "ACME.EXAMPLE.NET.evil.com",
    "acme\u3002example\u3002net",
    "0x7f000001",
    "2130706433",
]


@pytest.mark.parametrize("site", HOSTILE)
def test_hostile_sites_are_refused_before_any_request(site: str) -> None:
    with pytest.raises(InvalidArgumentError) as refused:
        REGISTRY.base_url(SITE_PROVIDER, {"site": site})
    assert [v.field for v in refused.value.violations] == ["config.site"]


def test_a_real_site_passes() -> None:
    assert REGISTRY.base_url(SITE_PROVIDER, {"site": "acme.example.net"}) == "https://acme.example.net/rest"


@settings(max_examples=300, deadline=None)
@given(site=st.text(max_size=60) | st.from_regex(r"[a-z0-9.:@/\\#?%\[\]-]{0,40}", fullmatch=True))
def test_any_site_is_refused_or_lands_on_an_allowed_host(site: str) -> None:
    try:
        url = REGISTRY.base_url(SITE_PROVIDER, {"site": site})
    except InvalidArgumentError:
        return
    parsed = httpx.URL(url)  # how the HTTP client itself will read it
    assert parsed.scheme == "https" and parsed.port is None and not parsed.userinfo
    assert re.fullmatch(ALLOWED, parsed.host), url


def test_nothing_turns_tls_verification_or_redirects_off() -> None:
    source = "\n".join(p.read_text() for p in Path("server/credvault").rglob("*.py") if "/v1/" not in str(p))
    assert "verify=False" not in source
    assert "follow_redirects=True" not in source
