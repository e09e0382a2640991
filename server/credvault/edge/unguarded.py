"""What the access check does with a CredentialVault method it can't guard: a name the contract does not
hold, or a handler of a kind it does not wrap (client or bidirectional streaming, or a server stream not
written as an async generator). Such a method is refused for every caller, rather than served unchecked:
a method added later must be taught to the access check before anyone can call it."""

from __future__ import annotations

import inspect
import logging
from typing import Any

import grpc

from credvault.edge.interceptor import Context, MethodHandler

log = logging.getLogger(__name__)


def guardable(handler: MethodHandler) -> bool:
    """True for the kinds the access check wraps: unary, and server streams written as async generators."""
    return handler.unary_unary is not None or inspect.isasyncgenfunction(handler.unary_stream)


def refusing(handler: MethodHandler, method: str) -> MethodHandler:
    """A handler of the same kind that answers PERMISSION_DENIED without running the method."""
    log.error("refusing %s: the access check does not know how to guard it", method)

    async def refuse(_request: Any, context: Context) -> None:
        await context.abort(
            grpc.StatusCode.PERMISSION_DENIED,
            f"{method} is not guarded by the access check, so no caller may use it",
        )

    kinds = {
        "unary_unary": grpc.unary_unary_rpc_method_handler,
        "unary_stream": grpc.unary_stream_rpc_method_handler,
        "stream_unary": grpc.stream_unary_rpc_method_handler,
        "stream_stream": grpc.stream_stream_rpc_method_handler,
    }
    kind = next(name for name in kinds if getattr(handler, name) is not None)
    return kinds[kind](
        refuse,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )
