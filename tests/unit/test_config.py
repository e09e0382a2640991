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


def test_connect_settings():
    settings = from_env(
        {
            "CREDVAULT_CONNECT_LISTEN": "127.0.0.1:8080",
            "CREDVAULT_CONNECT_URL": "https://connect.example.com/",
            "CREDVAULT_CONNECT_ALLOWED_ORIGINS": "https://App.Example.com, http://localhost:3000 ,",
        }
    ).connect
    assert settings.listen == "127.0.0.1:8080" and settings.url == "https://connect.example.com"
    assert settings.allowed_origins == ("https://app.example.com", "http://localhost:3000")
    assert from_env({}).connect.listen is None


@pytest.mark.parametrize(
    "origins", ["app.example.com", "https://app.example.com/path", "ftp://app.example.com", "https://"]
)
def test_connect_origins_must_be_origins(origins):
    with pytest.raises(ConfigError, match="CREDVAULT_CONNECT_ALLOWED_ORIGINS"):
        from_env({"CREDVAULT_CONNECT_ALLOWED_ORIGINS": origins})
