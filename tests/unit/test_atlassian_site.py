"""Site normalisation and the host checks, directly (the integration tests reach the fake through a
URL override, which skips the registry's host check)."""

from __future__ import annotations

import pytest
from site_inputs import HOSTILE_SITES, PASTED_FORMS

from credvault.domain.errors import InvalidArgumentError
from credvault.domain.model import Credentials
from credvault.providers import atlassian, atlassian_admin, atlassian_service_account
from credvault.providers.atlassian_site import SiteError, normalise_site
from credvault.providers.registry import ProviderRegistry

PROVIDERS = [atlassian.PROVIDER, atlassian_admin.PROVIDER, atlassian_service_account.PROVIDER]


@pytest.mark.parametrize("form", PASTED_FORMS)
def test_pasted_forms(form):
    assert normalise_site(form.format(name="acme", NAME="ACME")) == "acme.atlassian.net"


@pytest.mark.parametrize(
    "host", ["acme.jira.com", "acme.atlassian-us-gov-mod.net", "my-team-2.atlassian.net"]
)
def test_other_cloud_domains(host):
    assert normalise_site(host) == host


@pytest.mark.parametrize("hostile", HOSTILE_SITES)
def test_hostile_values_are_refused_without_echoing_them(hostile):
    with pytest.raises(SiteError) as error:
        normalise_site(hostile)
    assert hostile.strip() not in str(error.value)


@pytest.mark.parametrize("hostile", HOSTILE_SITES)
def test_registry_refuses_hostile_sites_with_and_without_override(hostile):
    for overrides in ({}, {"atlassian": "http://127.0.0.1:9/{site}"}):
        registry = ProviderRegistry(PROVIDERS, overrides)
        credentials = {"email": "a@example.com", "api_token": "t"}
        with pytest.raises(InvalidArgumentError) as error:
            registry.check_input(atlassian.PROVIDER, credentials, {"site": hostile})
        assert [v.field for v in error.value.violations] == ["config.site"]


def test_base_urls_without_override():
    registry = ProviderRegistry(PROVIDERS, {})
    _, config = registry.check_input(
        atlassian.PROVIDER, {"email": "a@example.com", "api_token": "t"}, {"site": "Acme"}
    )
    assert registry.base_url(atlassian.PROVIDER, config) == "https://acme.atlassian.net"
    sa = atlassian_service_account.PROVIDER
    _, config = registry.check_input(sa, {"email": "a@example.com", "api_token": "t"}, {"site": "acme"})
    assert registry.url(sa, "tenant_info", config) == "https://acme.atlassian.net/_edge/tenant_info"
    config = {**config, "cloud_id": "a436116f-02ce-4520-8fbb-7301462a1674"}
    assert registry.base_url(sa, config) == (
        "https://api.atlassian.com/ex/jira/a436116f-02ce-4520-8fbb-7301462a1674"
    )
    assert registry.base_url(atlassian_admin.PROVIDER, {}) == "https://api.atlassian.com/admin"


def test_host_check_catches_a_site_that_skipped_normalisation():
    registry = ProviderRegistry(PROVIDERS, {})
    with pytest.raises(InvalidArgumentError):
        registry.base_url(atlassian.PROVIDER, {"site": "169.254.169.254"})
    with pytest.raises(InvalidArgumentError):
        registry.url(atlassian_service_account.PROVIDER, "tenant_info", {"site": "evil.example.com"})


def test_credentials_never_show_in_reprs():
    assert "secret" not in repr(Credentials({"api_token": "secret"}))
