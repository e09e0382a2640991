"""An OAuth 2.0 token endpoint for the client-credentials grant, as
shared/providers/oauth-client-credentials.md records Atlassian's and JumpCloud's: a form-encoded POST
with `grant_type=client_credentials`, the client authenticated by HTTP basic and/or in the body (each
endpoint accepts the ways it is set up with), `invalid_client` with 400 or 401, and `expires_in`.

Each minted token is handed to the client's `grant` callback, which registers it with the API fake that
must then accept it as a Bearer token.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from fakes.base import FakeAPI, Request, Response


@dataclass
class Client:
    secret: str
    grant: Callable[[str], None]
    expires_in: int | str | None = 3600
    """What the answer says; None leaves expires_in out, a str sends it as a string."""


class FakeTokenEndpoint(FakeAPI):
    def __init__(
        self, path: str, client_auth: tuple[str, ...], reject_status: int, scope: str | None = None
    ) -> None:
        super().__init__()
        self.path = path
        self.client_auth = client_auth
        self.reject_status = reject_status
        self.scope = scope
        """The scope a request must ask for, if any (JumpCloud's `api`)."""
        self.clients: dict[str, Client] = {}
        self.minted: list[str] = []
        """The client id of each token minted, in order."""

    @property
    def token_url(self) -> str:
        return self.url + self.path

    def add_client(
        self, grant: Callable[[str], None], expires_in: int | str | None = 3600
    ) -> tuple[str, str]:
        client_id, secret = f"client-{uuid.uuid4().hex[:16]}", f"secret-{uuid.uuid4().hex}"
        self.clients[client_id] = Client(secret, grant, expires_in)
        return client_id, secret

    def mints_for(self, client_id: str) -> int:
        return self.minted.count(client_id)

    def override_key(self, request: Request) -> str:
        return _client(request, self.client_auth)[0]

    def handle(self, request: Request) -> Response:
        if request.method != "POST" or request.path != self.path:
            return Response(404, {"error": "not_found"})
        form = dict(parse_qsl(request.body.decode()))
        if form.get("grant_type") != "client_credentials":
            return Response(400, {"error": "unsupported_grant_type"})
        client_id, secret = _client(request, self.client_auth)
        client = self.clients.get(client_id)
        if client is None or client.secret != secret:
            return Response(
                self.reject_status,
                {"error": "invalid_client", "error_description": "Client authentication failed"},
            )
        if self.scope is not None and form.get("scope") != self.scope:
            return Response(400, {"error": "invalid_scope", "error_description": "Invalid scope"})
        token = f"tok-{uuid.uuid4().hex}"
        client.grant(token)
        self.minted.append(client_id)
        answer: dict[str, object] = {"access_token": token, "token_type": "Bearer", "scope": self.scope or ""}
        if client.expires_in is not None:
            answer["expires_in"] = client.expires_in
        return Response(200, answer, headers={"Cache-Control": "no-store"})


def _client(request: Request, accepted: tuple[str, ...]) -> tuple[str, str]:
    """(client_id, secret) from the ways this endpoint accepts; ('', '') when there are none."""
    authorization = request.headers.get("authorization", "")
    if "basic" in accepted and authorization.startswith("Basic "):
        client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        return client_id, secret
    form = dict(parse_qsl(request.body.decode()))
    if "body" in accepted and "client_id" in form:
        return form["client_id"], form.get("client_secret", "")
    return "", ""
