"""The one exception tree of credvault.

Each error carries the name of the gRPC status code it maps to and, where it helps a client, a
machine-readable reason, metadata and a retry delay; `credvault.edge.status` turns them into statuses.
Messages never contain a credential or an echoed field value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class FieldViolation:
    """One bad request field: `field` is its path (e.g. `credentials.api_key`)."""

    field: str
    description: str


class CredvaultError(Exception):
    """Base of every error credvault raises on purpose."""

    code: ClassVar[str] = "INTERNAL"
    default_reason: ClassVar[str] = "INTERNAL"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
        retry_after: float | None = None,
        help_url: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        self.metadata: dict[str, str] = dict(metadata or {})
        self.retry_after = retry_after
        self.help_url = help_url


class InvalidArgumentError(CredvaultError):
    """The request is malformed; `violations` names each bad field."""

    code = "INVALID_ARGUMENT"
    default_reason = "INVALID_ARGUMENT"

    def __init__(self, violations: list[FieldViolation]) -> None:
        fields = ", ".join(v.field for v in violations)
        super().__init__(f"invalid request: check {fields}")
        self.violations = violations


class NotFoundError(CredvaultError):
    code = "NOT_FOUND"
    default_reason = "CONNECTION_NOT_FOUND"


class AlreadyExistsError(CredvaultError):
    code = "ALREADY_EXISTS"
    default_reason = "CONNECTION_EXISTS"


class ConflictError(CredvaultError):
    """A concurrent change to the same connection won; the caller may retry."""

    code = "ABORTED"
    default_reason = "CONCURRENT_CHANGE"


class FailedPreconditionError(CredvaultError):
    """The request is well-formed but the state of things (the provider's verdict, an expired or
    invalid connection) does not allow it; `hint` says what a person can do."""

    code = "FAILED_PRECONDITION"
    default_reason = "FAILED_PRECONDITION"


class OutOfRangeError(CredvaultError):
    """A position (an event cursor) is past what is kept; start again from a listing."""

    code = "OUT_OF_RANGE"
    default_reason = "OUT_OF_RANGE"


class RateLimitedError(CredvaultError):
    code = "RESOURCE_EXHAUSTED"
    default_reason = "PROVIDER_RATE_LIMITED"


class UnavailableError(CredvaultError):
    """A dependency (the provider's API or Vault) could not be reached or failed; retrying may help."""

    code = "UNAVAILABLE"
    default_reason = "UNAVAILABLE"


class ProviderUnavailableError(UnavailableError):
    default_reason = "PROVIDER_UNAVAILABLE"


class StoreUnavailableError(UnavailableError):
    default_reason = "VAULT_UNAVAILABLE"


class UnauthenticatedError(CredvaultError):
    code = "UNAUTHENTICATED"
    default_reason = "UNAUTHENTICATED"


class PermissionDeniedError(CredvaultError):
    code = "PERMISSION_DENIED"
    default_reason = "PERMISSION_DENIED"


class ConfigError(CredvaultError):
    """The operator's configuration (environment, plugins) is wrong; raised at start-up."""
