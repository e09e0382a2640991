"""The one place where errors become gRPC statuses with google.rpc details.

Domain errors keep their code, message and details. Anything else is a bug: it is logged with its
traceback but without its message (which may quote a secret) and answered INTERNAL with a generic text.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator
from typing import Any

import grpc
from google.protobuf import duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from credvault.domain.errors import CredvaultError, InvalidArgumentError
from credvault.edge.interceptor import Behavior, Context, StreamBehavior, UnaryInterceptor
from credvault.retry_after import MAX_RETRY_AFTER

log = logging.getLogger(__name__)

ERROR_DOMAIN = "credvault"
UNAVAILABLE_RETRY_AFTER = 1.0
"""Seconds of RetryInfo on an UNAVAILABLE that names no delay of its own (Vault or a provider could not
be reached): every UNAVAILABLE tells the client that a retry may help, and when (AIP-193)."""
PUSHBACK_KEY = "grpc-retry-pushback-ms"
"""Trailing metadata that gRPC's own retry policy (in every language) obeys: wait this many
milliseconds before the next attempt, or, when negative, make no further attempt."""


def to_status(error: CredvaultError) -> grpc.Status:
    details = []
    if isinstance(error, InvalidArgumentError):
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                    for v in error.violations
                ]
            )
        )
    details.append(
        error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata)
    )
    retry_after = retry_delay(error)
    if retry_after is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(min(max(retry_after, 0.0), MAX_RETRY_AFTER) * 1e9))
        details.append(error_details_pb2.RetryInfo(retry_delay=delay))
    if error.help_url:
        details.append(
            error_details_pb2.Help(
                links=[error_details_pb2.Help.Link(description="provider guide", url=error.help_url)]
            )
        )
    status = status_pb2.Status(code=getattr(code_pb2, error.code), message=error.message)
    for detail in details:
        status.details.add().Pack(detail)
    return rpc_status.to_status(status)


def retry_delay(error: CredvaultError) -> float | None:
    """Seconds after which a retry may help: the error's own delay (a Retry-After), else
    UNAVAILABLE_RETRY_AFTER for an UNAVAILABLE; None when a retry will not help."""
    if error.retry_after is None and error.code == "UNAVAILABLE":
        return UNAVAILABLE_RETRY_AFTER
    return error.retry_after


def pushback(error: CredvaultError, time_left: float | None) -> tuple[tuple[str, str], ...]:
    """gRPC's retry pushback for an UNAVAILABLE, matching its RetryInfo: the client's retry policy waits
    the delay credvault asks for instead of its own short backoff (so a rate-limited provider or a Vault
    that already had its retries here is not hit again at once), and makes no further attempt when the
    call's deadline ends before that delay does: the caller is told UNAVAILABLE and why, not
    DEADLINE_EXCEEDED from an attempt that could not finish."""
    delay = retry_delay(error)
    if error.code != "UNAVAILABLE" or delay is None:
        return ()
    if time_left is not None and time_left <= delay:
        return ((PUSHBACK_KEY, "-1"),)
    return ((PUSHBACK_KEY, str(int(min(delay, MAX_RETRY_AFTER) * 1000))),)


class ErrorInterceptor(UnaryInterceptor):
    """Wraps every unary handler so that no exception leaves it unmapped."""

    def wrap(self, behavior: Behavior, method: str) -> Behavior:
        async def guarded(request: Any, context: Context) -> Any:
            try:
                return await behavior(request, context)
            except grpc.aio.AbortError:
                raise
            except Exception as exc:  # the boundary: nothing may leave as UNKNOWN with its raw text
                await _abort(context, method, exc)

        return guarded

    def wrap_stream(self, behavior: StreamBehavior, method: str) -> StreamBehavior:
        async def guarded(request: Any, context: Context) -> AsyncIterator[Any]:
            try:
                async for message in behavior(request, context):
                    yield message
            except grpc.aio.AbortError:
                raise
            except Exception as exc:
                await _abort(context, method, exc)

        return guarded


async def _abort(context: Context, method: str, exc: Exception) -> None:
    """Ends the call with the status of a credvault error, or INTERNAL for anything else."""
    if isinstance(exc, CredvaultError):
        status = to_status(exc)
        # Keep trailing metadata set earlier in the call (the request id) next to the details.
        kept = tuple(context.trailing_metadata() or ())
        retry = pushback(exc, context.time_remaining())
        await context.abort(status.code, status.details, kept + tuple(status.trailing_metadata) + retry)
    log.error(
        "unexpected %s in %s\n%s",
        type(exc).__name__,
        method,
        "".join(traceback.format_tb(exc.__traceback__)),
    )
    await context.abort(grpc.StatusCode.INTERNAL, "internal error; the server log has the details")
