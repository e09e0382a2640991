"""The Atlassian organization admin API as shared/providers/atlassian-admin.md records it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fakes.base import FakeAPI, Request, Response

PAGE_SIZE = 2
"""Small, so that tests exercise the cursor pagination of GET /v1/orgs."""
ORG_SCOPES = {"read:orgs:admin", "read:org:admin"}


@dataclass
class AdminKey:
    orgs: list[str]
    scopes: set[str] | None = None
    """None: a key without scopes; a set: a key with scopes (which may not list organizations)."""


class FakeAtlassianAdmin(FakeAPI):
    base_path = "/admin"

    def __init__(self) -> None:
        super().__init__()
        self.keys: dict[str, AdminKey] = {}
        self.names: dict[str, str] = {}

    def add_key(self, orgs: list[str], scopes: set[str] | None = None) -> str:
        key = f"ATCTT3x{uuid.uuid4().hex}{uuid.uuid4().hex}"
        self.keys[key] = AdminKey(orgs, scopes)
        return key

    def override_key(self, request: Request) -> str:
        return request.headers.get("authorization", "").removeprefix("Bearer ")

    def handle(self, request: Request) -> Response:
        key = self.keys.get(request.headers.get("authorization", "").removeprefix("Bearer "))
        if key is None:
            return Response(401, {"code": 401, "message": "Unauthorized"})
        path = request.path.removeprefix(self.base_path)
        if path == "/v1/orgs":
            if key.scopes is not None:
                return Response(401, {"code": 401, "message": "Unauthorized; scope does not match"})
            return self._page(key.orgs, request.query.get("cursor", ""))
        if path.startswith("/v1/orgs/") and path.count("/") == 3:
            org_id = path.rsplit("/", 1)[1]
            if key.scopes is not None and not key.scopes & ORG_SCOPES:
                return Response(401, {"code": 401, "message": "Unauthorized; scope does not match"})
            if org_id not in key.orgs:
                return Response(404, _error("404", "ADMIN-404-2", "Organization not found"))
            return Response(200, {"data": self._org(org_id)})
        return Response(404, _error("404", "ADMIN-404-1", "Not found"))

    def _page(self, orgs: list[str], cursor: str) -> Response:
        start = int(cursor) if cursor.isdigit() else 0
        chunk = orgs[start : start + PAGE_SIZE]
        more = start + PAGE_SIZE < len(orgs)
        links = {
            "self": f"https://api.atlassian.com/admin/v1/orgs?cursor={start}",
            "prev": None,
            "next": f"https://api.atlassian.com/admin/v1/orgs?cursor={start + PAGE_SIZE}" if more else None,
        }
        return Response(200, {"data": [self._org(o) for o in chunk], "links": links})

    def _org(self, org_id: str) -> dict[str, object]:
        base = f"https://api.atlassian.com/admin/v1/orgs/{org_id}"
        return {
            "id": org_id,
            "type": "orgs",
            "attributes": {"name": self.names.get(org_id, "Acme")},
            "relationships": {
                "domains": {"links": {"related": f"{base}/domains"}},
                "users": {"links": {"related": f"{base}/users"}},
            },
            "links": {"self": base},
        }


def _error(status: str, code: str, title: str) -> dict[str, object]:
    return {
        "errors": [{"id": str(uuid.uuid4()), "status": status, "code": code, "title": title, "detail": title}]
    }
