"""Provider plugins: what each third-party API needs, and how to check credentials against it.

A plugin is a `ProviderSpec` published under the entry-point group `credvault.providers`; the built-in
providers register the same way (see pyproject.toml).
"""

from credvault.providers.spec import (
    FieldLocation,
    FieldSpec,
    ProviderSpec,
    VerifyRequest,
)

__all__ = ["FieldLocation", "FieldSpec", "ProviderSpec", "VerifyRequest"]
