"""The shape shared by credvault's own server interceptors: wrap the behaviour of every unary RPC and
of every server-streaming one written as an async generator (WatchConnectionEvents); leave the others
(health Watch, which writes through its context, and reflection) as they are. Also the grpc.aio types,
spelled once for mypy (grpc-stubs makes them generic; at run time they are not subscriptable), and the
final status of a call, which the access log and the metrics both report."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

import grpc

if TYPE_CHECKING:
    Context = grpc.aio.ServicerContext[Any, Any]
    _ServerInterceptor = grpc.aio.ServerInterceptor[Any, Any]
    MethodHandler = grpc.RpcMethodHandler[Any, Any]
else:
    Context = grpc.aio.ServicerContext
    _ServerInterceptor = grpc.aio.ServerInterceptor
    MethodHandler = grpc.RpcMethodHandler

Behavior = Callable[[Any, Context], Awaitable[Any]]
StreamBehavior = Callable[[Any, Context], AsyncIterator[Any]]
Deserializer = Callable[[bytes], Any]


class UnaryInterceptor(_ServerInterceptor):
    """Subclasses say how to wrap a unary behaviour, given the full method name; a behaviour returned
    unchanged leaves the method as it is. `decoder` may change how a wrapped method's requests are
    parsed."""

    def __init__(self) -> None:
        self._handlers: dict[str, tuple[MethodHandler, MethodHandler]] = {}
        """Method name → (inner handler, its wrapping). Bounded by the server's methods: an unknown
        method has no handler and is never kept."""

    def wrap(self, behavior: Behavior, method: str) -> Behavior:
        raise NotImplementedError

    def wrap_stream(self, behavior: StreamBehavior, method: str) -> StreamBehavior:
        """Like `wrap`, for a server-streaming RPC; by default leaves it as it is."""
        return behavior

    def decoder(self, deserializer: Deserializer | None) -> Deserializer | None:
        return deserializer

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[MethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> MethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        # The inner handler is the same object on every call of a method, so its wrapping is built
        # once per method rather than on every call (a few closures and a handler each time).
        wrapped = self._handlers.get(handler_call_details.method)
        if wrapped is None or wrapped[0] is not handler:
            wrapped = (handler, self.handler_for(handler, handler_call_details.method))
            self._handlers[handler_call_details.method] = wrapped
        return wrapped[1]

    def handler_for(self, handler: MethodHandler, method: str) -> MethodHandler:
        """The handler the calls of `method` get instead of `handler` (built once per method)."""
        if inspect.isasyncgenfunction(handler.unary_stream):
            streaming = cast(StreamBehavior, handler.unary_stream)
            wrapped_stream = self.wrap_stream(streaming, method)
            if wrapped_stream is streaming:
                return handler
            return grpc.unary_stream_rpc_method_handler(
                wrapped_stream,
                request_deserializer=self.decoder(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
        if handler.unary_unary is None:
            return handler
        behavior = cast(Behavior, handler.unary_unary)
        wrapped = self.wrap(behavior, method)
        if wrapped is behavior:
            return handler
        return grpc.unary_unary_rpc_method_handler(
            wrapped,
            request_deserializer=self.decoder(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )


async def reported(
    behavior: Behavior, request: Any, context: Context, report: Callable[[str, float], None]
) -> Any:
    """Runs one call, then tells `report` the name of the status code it ended with and the seconds
    it took, whether it returned or raised."""
    started = time.perf_counter()
    error: BaseException | None = None
    try:
        return await behavior(request, context)
    except BaseException as exc:
        error = exc
        raise
    finally:
        report(final_code(context, error), time.perf_counter() - started)


async def reported_stream(
    behavior: StreamBehavior, request: Any, context: Context, report: Callable[[str, float], None]
) -> AsyncIterator[Any]:
    """`reported` for a server-streaming call: reports once the stream has ended, however it ended."""
    started = time.perf_counter()
    error: BaseException | None = None
    try:
        async for message in behavior(request, context):
            yield message
    except BaseException as exc:
        error = exc
        raise
    finally:
        report(final_code(context, error), time.perf_counter() - started)


def final_code(context: Context, error: BaseException | None) -> str:
    """The name of the status code an RPC ended with, given the exception that left its handler, if
    any. Deadline and cancellation end a handler with CancelledError."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    if error is None:
        return "OK"
    if isinstance(error, asyncio.CancelledError):
        remaining = context.time_remaining()
        return "DEADLINE_EXCEEDED" if remaining is not None and remaining <= 0 else "CANCELLED"
    return "UNKNOWN"
