"""Plugins are checked when loaded; requests are checked against the provider's fields."""

from __future__ import annotations

import dataclasses
from importlib.metadata import EntryPoint

import pytest

from credvault.domain.errors import ConfigError, InvalidArgumentError
from credvault.domain.model import Credentials
from credvault.providers.jumpcloud import PROVIDER as JUMPCLOUD
from credvault.providers.registry import ProviderRegistry, load_entry_points

NOT_A_SPEC = object()
BAD_PATTERN = dataclasses.replace(
    JUMPCLOUD, fields=(dataclasses.replace(JUMPCLOUD.fields[0], pattern="(unclosed"),)
)
BAD_TEMPLATE = dataclasses.replace(JUMPCLOUD, base_url_template="https://{tenant}.example.com")


def point(name: str, attribute: str) -> EntryPoint:
    return EntryPoint(name=name, value=f"{__name__}:{attribute}", group="credvault.providers")


@pytest.mark.parametrize(
    "points, message",
    [
        ([point("jumpcloud", "NOT_A_SPEC")], "not a credvault ProviderSpec"),
        ([point("other", "JUMPCLOUD")], "declares id 'jumpcloud'"),
        ([point("jumpcloud", "JUMPCLOUD"), point("jumpcloud", "JUMPCLOUD")], "both provide"),
        ([point("jumpcloud", "BAD_PATTERN")], "bad pattern"),
        ([point("jumpcloud", "BAD_TEMPLATE")], "not config fields"),
        ([point("jumpcloud", "MISSING")], "failed to load"),
    ],
)
def test_broken_plugins_stop_start_up_naming_the_plugin(points, message):
    with pytest.raises(ConfigError, match=message) as caught:
        load_entry_points(points)
    assert "plugin 'jumpcloud'" in caught.value.message or "plugin 'other'" in caught.value.message


def test_installed_plugins_load():
    ids = {spec.id for spec in ProviderRegistry.discover({}).all()}
    assert {"jumpcloud", "example-bearer"} <= ids


def test_override_must_name_an_installed_provider_and_its_fields():
    with pytest.raises(ConfigError, match="not installed"):
        ProviderRegistry([JUMPCLOUD], {"nope": "https://x"})
    with pytest.raises(ConfigError, match="not config fields"):
        ProviderRegistry([JUMPCLOUD], {"jumpcloud": "https://{site}/api"})


def test_override_replaces_the_base_url():
    registry = ProviderRegistry([JUMPCLOUD], {"jumpcloud": "http://127.0.0.1:8080/api/"})
    assert registry.base_url(JUMPCLOUD, {}) == "http://127.0.0.1:8080/api"


def test_check_input_names_every_bad_field():
    registry = ProviderRegistry([JUMPCLOUD], {})
    with pytest.raises(InvalidArgumentError) as caught:
        registry.check_input(JUMPCLOUD, {"api_key": "", "extra": "x"}, {"org_id": "bad"})
    assert {v.field for v in caught.value.violations} == {
        "credentials.api_key",
        "credentials.extra",
        "config.org_id",
    }


def test_unknown_field_is_named_as_typed_with_the_likely_one():
    registry = ProviderRegistry([JUMPCLOUD], {})
    with pytest.raises(InvalidArgumentError) as caught:
        registry.check_input(JUMPCLOUD, {"apiKey": "jca_0123456789abcdef"}, {})
    violations = {v.field: v.description for v in caught.value.violations}
    assert "did you mean api_key?" in violations["credentials.apiKey"]


def test_unknown_field_that_may_be_a_pasted_secret_is_not_echoed():
    registry = ProviderRegistry([JUMPCLOUD], {})
    secret = "ATATT3xFfGF0" + "x" * 80
    with pytest.raises(InvalidArgumentError) as caught:
        registry.check_input(JUMPCLOUD, {secret: "", "api_key": "jca_0123456789abcdef"}, {})
    assert [v.field for v in caught.value.violations] == ["credentials.<field>"]


def test_credentials_never_show_in_repr():
    secret = Credentials({"api_key": "jca_topsecret"})
    assert "topsecret" not in repr(secret) and "topsecret" not in str(secret)
    assert "topsecret" not in repr({"wrapped": secret})
