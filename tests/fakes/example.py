"""The API behind the third-party `example-bearer` provider kept in tests/plugins."""

from __future__ import annotations

from fakes.base import FakeAPI, Request, Response


class FakeExample(FakeAPI):
    base_path = "/v1"

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def handle(self, request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return Response(401, {"error": "invalid_token"})
        if request.path == "/v1/me":
            return Response(200, {"id": "u1"})
        return Response(404, {"error": "not_found"})
