"""credvault's errors as Python exceptions: one class per gRPC status code a caller handles differently,
each carrying the server's google.rpc details (ErrorInfo reason and metadata, BadRequest violations,
RetryInfo delay, Help links) already decoded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


@dataclass(frozen=True)
class FieldViolation:
    """One bad request field (BadRequest.FieldViolation): which field, and what is wrong with it."""

    field: str
    description: str


class CredvaultError(Exception):
    """A failed call. `reason` is ErrorInfo's machine-readable reason (e.g. "CREDENTIALS_REJECTED"),
    empty when the server sent none; `metadata` its key/values (e.g. provider, provider_http_status)."""

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        *,
        reason: str = "",
        domain: str = "",
        metadata: Mapping[str, str] | None = None,
        violations: Sequence[FieldViolation] = (),
        retry_after: timedelta | None = None,
        help_links: Sequence[str] = (),
    ) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.reason = reason
        self.domain = domain
        self.metadata: dict[str, str] = dict(metadata or {})
        self.violations: tuple[FieldViolation, ...] = tuple(violations)
        self.retry_after = retry_after
        self.help_links: tuple[str, ...] = tuple(help_links)

    @property
    def violated_fields(self) -> set[str]:
        return {violation.field for violation in self.violations}


class InvalidArgumentError(CredvaultError):
    """A request field is missing or malformed; `violations` names each one."""


class NotFoundError(CredvaultError):
    """The connection does not exist."""


class AlreadyExistsError(CredvaultError):
    """A connection with this id exists already."""


class FailedPreconditionError(CredvaultError):
    """The provider rejected the credentials, or the connection is INVALID/EXPIRED; see `reason` and
    `metadata["hint"]`."""


class AbortedError(CredvaultError):
    """A concurrent change to the same connection won; read it again and retry."""


class ResourceExhaustedError(CredvaultError):
    """The provider rate-limited the check; wait `retry_after` before trying again."""


class UnavailableError(CredvaultError):
    """credvault, Vault or the provider could not be reached (ErrorInfo reason says which)."""


class DeadlineExceededError(CredvaultError):
    """The call did not finish within its deadline."""


class OutOfRangeError(CredvaultError):
    """A watch's cursor is older than the events the server keeps: list again and watch from now."""


class UnauthenticatedError(CredvaultError):
    """No or an invalid caller identity."""


class PermissionDeniedError(CredvaultError):
    """The caller may not use this tenant or method."""


_BY_CODE: dict[grpc.StatusCode, type[CredvaultError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExistsError,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPreconditionError,
    grpc.StatusCode.ABORTED: AbortedError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    grpc.StatusCode.UNAVAILABLE: UnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
    grpc.StatusCode.OUT_OF_RANGE: OutOfRangeError,
    grpc.StatusCode.UNAUTHENTICATED: UnauthenticatedError,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDeniedError,
}


def from_rpc_error(error: grpc.RpcError) -> CredvaultError:
    """The typed exception for a failed call, with the details from its `grpc-status-details-bin`."""
    call: grpc.Call = error  # type: ignore[assignment]  # every RpcError raised by a call is also a Call
    code, message = call.code(), call.details() or ""
    kind = _BY_CODE.get(code, CredvaultError)
    status = rpc_status.from_call(call)
    if status is None:
        return kind(code, message)
    info = error_details_pb2.ErrorInfo()
    bad = error_details_pb2.BadRequest()
    retry = error_details_pb2.RetryInfo()
    help_ = error_details_pb2.Help()
    for detail in status.details:
        for message_type in (info, bad, retry, help_):
            if detail.Is(message_type.DESCRIPTOR):
                detail.Unpack(message_type)
    return kind(
        code,
        message,
        reason=info.reason,
        domain=info.domain,
        metadata=info.metadata,
        violations=[FieldViolation(v.field, v.description) for v in bad.field_violations],
        retry_after=retry.retry_delay.ToTimedelta() if retry.HasField("retry_delay") else None,
        help_links=[link.url for link in help_.links],
    )
