"""The API behind the third-party providers kept in tests/plugins: `example-bearer` (a Bearer token)
and `example-query` (a key in the query, `?api_key=`)."""

from __future__ import annotations

from fakes.base import FakeAPI, Request, Response


class FakeExample(FakeAPI):
    base_path = "/v1"

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()
        self.keys: set[str] = set()
        """Keys accepted as `?api_key=`."""

    def handle(self, request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens and request.query.get("api_key") not in self.keys:
            return Response(401, {"error": "invalid_token"})
        if request.path == "/v1/me":
            return Response(200, {"id": "u1"})
        return Response(404, {"error": "not_found"})
