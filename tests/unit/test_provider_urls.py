"""Named URL overrides (`CREDVAULT_PROVIDER_URLS["<id>.<name>"]`) are checked at start-up."""

from __future__ import annotations

import pytest

from credvault.domain.errors import ConfigError
from credvault.providers import atlassian_service_account, jumpcloud
from credvault.providers.registry import ProviderRegistry

SA = atlassian_service_account.PROVIDER


def test_named_override_is_used_and_skips_the_host_check():
    registry = ProviderRegistry(
        [SA], {"atlassian-service-account.tenant_info": "http://127.0.0.1:9/{site}/ti"}
    )
    assert (
        registry.url(SA, "tenant_info", {"site": "acme.atlassian.net"})
        == "http://127.0.0.1:9/acme.atlassian.net/ti"
    )
    assert registry.base_url(SA, {"product": "jira", "cloud_id": "x" * 8}).startswith(
        "https://api.atlassian.com/"
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"atlassian-service-account.nope": "https://x.example.com"}, "tenant_info"),
        ({"jumpcloud.tenant_info": "https://x.example.com"}, "none"),
        ({"atlassian-service-account.tenant_info": "https://x.example.com/{org}"}, "not config fields"),
        ({"atlassian-service-account.tenant_info": "ftp://x.example.com"}, "https://"),
    ],
)
def test_bad_named_overrides_fail_at_start_up(overrides, message):
    with pytest.raises(ConfigError) as error:
        ProviderRegistry([SA, jumpcloud.PROVIDER], overrides)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("config", "url"),
    [
        ({}, "https://console.jumpcloud.com/api"),
        ({"region": "us"}, "https://console.jumpcloud.com/api"),
        ({"region": " EU "}, "https://console.eu.jumpcloud.com/api"),
    ],
)
def test_jumpcloud_region_picks_the_console(config, url):
    registry = ProviderRegistry([jumpcloud.PROVIDER], {})
    _, normalised = registry.check_input(jumpcloud.PROVIDER, {"api_key": "jca_" + "0" * 36}, config)
    assert registry.base_url(jumpcloud.PROVIDER, normalised) == url


def test_overrides_may_use_derived_placeholders():
    registry = ProviderRegistry([jumpcloud.PROVIDER], {"jumpcloud": "https://egress.internal/{console}/api"})
    assert registry.base_url(jumpcloud.PROVIDER, {"region": "eu"}) == (
        "https://egress.internal/console.eu.jumpcloud.com/api"
    )
