"""credvault's interceptors build a method's wrapped handler once, not on every call; the access check's
refusal of a method it cannot guard included."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from credvault.edge.auth import AccessInterceptor
from credvault.edge.interceptor import Behavior, UnaryInterceptor


class Tagging(UnaryInterceptor):
    def __init__(self) -> None:
        super().__init__()
        self.wrapped: list[str] = []

    def wrap(self, behavior: Behavior, method: str) -> Behavior:
        self.wrapped.append(method)

        async def tagged(request: Any, context: Any) -> Any:
            return ("tagged", await behavior(request, context))

        return tagged


class Details(grpc.HandlerCallDetails):
    def __init__(self, method: str) -> None:
        self.method = method
        self.invocation_metadata = ()


async def echo(request: Any, _context: Any) -> Any:
    return request


def test_a_method_is_wrapped_once_and_its_handler_reused():
    interceptor = Tagging()
    inner = {
        "/s/A": grpc.unary_unary_rpc_method_handler(echo),
        "/s/B": grpc.unary_unary_rpc_method_handler(echo),
    }

    async def continuation(details: grpc.HandlerCallDetails) -> Any:
        return inner.get(details.method)

    async def calls() -> list[Any]:
        return [
            await interceptor.intercept_service(continuation, Details(m))
            for m in ("/s/A", "/s/A", "/s/B", "/s/X")
        ]

    first, again, other, unknown = asyncio.run(calls())
    assert first is again and first is not inner["/s/A"] and other is not first
    assert unknown is None
    assert interceptor.wrapped == ["/s/A", "/s/B"]
    assert asyncio.run(first.unary_unary("r", None)) == ("tagged", "r")


def test_a_new_inner_handler_is_wrapped_again():
    interceptor = Tagging()
    handlers = iter([grpc.unary_unary_rpc_method_handler(echo), grpc.unary_unary_rpc_method_handler(echo)])

    async def continuation(_details: grpc.HandlerCallDetails) -> Any:
        return next(handlers)

    async def calls() -> list[Any]:
        return [await interceptor.intercept_service(continuation, Details("/s/A")) for _ in range(2)]

    first, second = asyncio.run(calls())
    assert first is not second and interceptor.wrapped == ["/s/A", "/s/A"]


def test_the_access_check_refuses_a_method_it_does_not_know_once_built():
    interceptor = AccessInterceptor(None)
    inner = grpc.unary_unary_rpc_method_handler(echo)

    async def continuation(_details: grpc.HandlerCallDetails) -> Any:
        return inner

    class Refused(Exception):
        pass

    class Context:
        async def abort(self, code: grpc.StatusCode, details: str) -> None:
            raise Refused(code, details)

    async def calls() -> list[Any]:
        method = Details("/credvault.v1.CredentialVault/NotInThePolicy")
        return [await interceptor.intercept_service(continuation, method) for _ in range(2)]

    first, again = asyncio.run(calls())
    assert first is again and first is not inner
    try:
        asyncio.run(first.unary_unary("r", Context()))
    except Refused as refused:
        assert refused.args[0] == grpc.StatusCode.PERMISSION_DENIED
    else:
        raise AssertionError("an unknown CredentialVault method ran")
