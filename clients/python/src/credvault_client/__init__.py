"""credvault's Python client: `Client` (typed, default deadlines, safe retries, typed errors) over the
generated stubs in `credvault_client.v1`."""

from credvault_client.channel import Keepalive, open_channel
from credvault_client.client import DEFAULT_TIMEOUTS, Client
from credvault_client.errors import (
    AbortedError,
    AlreadyExistsError,
    CredvaultError,
    DeadlineExceededError,
    FailedPreconditionError,
    FieldViolation,
    InvalidArgumentError,
    NotFoundError,
    OutOfRangeError,
    PermissionDeniedError,
    ResourceExhaustedError,
    UnauthenticatedError,
    UnavailableError,
)
from credvault_client.v1 import credvault_pb2 as pb

__all__ = [
    "DEFAULT_TIMEOUTS",
    "AbortedError",
    "AlreadyExistsError",
    "Client",
    "CredvaultError",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "FieldViolation",
    "InvalidArgumentError",
    "Keepalive",
    "NotFoundError",
    "OutOfRangeError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "UnauthenticatedError",
    "UnavailableError",
    "open_channel",
    "pb",
]
