"""Provider plugins: what each third-party API needs, and how to check credentials against it.

A plugin is a `ProviderSpec` published under the entry-point group `credvault.providers`; the built-in
providers register the same way (see pyproject.toml). Everything a plugin needs is importable from here.
"""

from credvault.providers.auth import Basic, Bearer, ByConfig, ClientCredentials, Header, QueryParam
from credvault.providers.check import Check, Rule
from credvault.providers.spec import (
    FieldLocation,
    FieldSpec,
    ProviderSpec,
    VerifyRequest,
    credential,
    setting,
)

__all__ = [
    "Basic",
    "Bearer",
    "ByConfig",
    "Check",
    "ClientCredentials",
    "FieldLocation",
    "FieldSpec",
    "Header",
    "ProviderSpec",
    "QueryParam",
    "Rule",
    "VerifyRequest",
    "credential",
    "setting",
]
