"""The shape shared by credvault's own server interceptors: wrap the behaviour of every unary RPC,
leave streaming ones (health Watch, reflection) as they are. Also the grpc.aio types, spelled once
for mypy (grpc-stubs makes them generic; at run time they are not subscriptable)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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


class UnaryInterceptor(_ServerInterceptor):
    """Subclasses say how to wrap a unary behaviour, given the full method name."""

    def wrap(self, behavior: Behavior, method: str) -> Behavior:
        raise NotImplementedError

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[MethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> MethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        return grpc.unary_unary_rpc_method_handler(
            self.wrap(cast(Behavior, handler.unary_unary), handler_call_details.method),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
