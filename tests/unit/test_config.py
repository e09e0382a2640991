"""Settings come from the environment, and a wrong variable is named at start-up."""

from __future__ import annotations

import pytest

from credvault.config import from_env
from credvault.domain.errors import ConfigError


def test_defaults():
    settings = from_env({"HOME": "/home/u"})
    assert settings.listen == "127.0.0.1:50051"
    assert settings.vault.addr is None
    assert str(settings.data_dir) == "/home/u/.local/share/credvault"
    assert settings.provider_urls == {}


@pytest.mark.parametrize(
    "env, name",
    [
        ({"VAULT_ADDR": "http://v:8200"}, "VAULT_TOKEN"),
        ({"CREDVAULT_PROVIDER_URLS": "{not json"}, "CREDVAULT_PROVIDER_URLS"),
        ({"CREDVAULT_PROVIDER_URLS": '["x"]'}, "CREDVAULT_PROVIDER_URLS"),
        ({"CREDVAULT_VERIFY_TIMEOUT": "soon"}, "CREDVAULT_VERIFY_TIMEOUT"),
        ({"CREDVAULT_VAULT_TIMEOUT": "-1"}, "CREDVAULT_VAULT_TIMEOUT"),
        ({"CREDVAULT_VAULT_CREATE_MOUNT": "maybe"}, "CREDVAULT_VAULT_CREATE_MOUNT"),
    ],
)
def test_bad_values_name_the_variable(env, name):
    with pytest.raises(ConfigError, match=name):
        from_env({"HOME": "/home/u", **env})


def test_token_secret_is_not_in_repr():
    settings = from_env({"HOME": "/h", "VAULT_ADDR": "http://v", "VAULT_TOKEN": "s.secret-token"})
    assert "secret-token" not in repr(settings)
