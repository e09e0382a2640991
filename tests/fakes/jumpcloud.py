"""JumpCloud's API as shared/providers/jumpcloud.md records it."""

from __future__ import annotations

from dataclasses import dataclass, field

from fakes.base import FakeAPI, Request, Response

STANDARD_HEADERS = {
    "Server": "nginx",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Strict-Transport-Security": "max-age=31536000; includeSubdomains;",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "X-XSS-Protection": "1; mode=block",
}


@dataclass
class Admin:
    """An administrator's key: `orgs` it manages; more than one makes it a multi-tenant (MSP) key."""

    orgs: list[str]
    can_read_users: bool = True

    @property
    def multi_tenant(self) -> bool:
        return len(self.orgs) > 1


@dataclass
class Org:
    id: str
    users: list[dict[str, object]] = field(default_factory=list)


class FakeJumpCloud(FakeAPI):
    base_path = "/api"
    default_headers = STANDARD_HEADERS

    def __init__(self) -> None:
        super().__init__()
        self.keys: dict[str, Admin] = {}

    def add_key(self, key: str, orgs: list[str], *, can_read_users: bool = True) -> None:
        self.keys[key] = Admin(orgs=orgs, can_read_users=can_read_users)

    def override_key(self, request: Request) -> str:
        return _credential(request)

    def handle(self, request: Request) -> Response:
        admin = self.keys.get(_credential(request))
        if admin is None:
            return Response(401, {"error": "Unauthorized", "message": "Unauthorized: api key user not found"})
        path = request.path.removeprefix(self.base_path)
        org_id = request.headers.get("x-org-id", "")
        if path == "/organizations":
            results = [_org(o) for o in admin.orgs]
            return Response(200, {"totalCount": len(results), "results": results})
        if org_id:
            if not _looks_like_object_id(org_id):
                return Response(400, {"message": "Malformed ID"})
            if org_id not in admin.orgs:
                return Response(404, {"message": "Organization ID Not Found"})
        elif admin.multi_tenant:
            return Response(401, {"message": "Unauthorized: no organization selected"})
        if not admin.can_read_users:
            return Response(
                403, {"code": 403, "message": "Forbidden: insufficient role", "status": "Forbidden"}
            )
        if path == "/systemusers":
            user = {"_id": "6026a5e2e3d6b0123f4c5d6e", "id": "6026a5e2e3d6b0123f4c5d6e"}
            return Response(200, {"totalCount": 1, "results": [user]})
        if path == "/v2/usergroups":
            group = {
                "attributes": None,
                "id": "60259a3cb544065d1eaf2760",
                "name": "All Users",
                "type": "user_group",
                "email": "",
                "description": "",
            }
            return Response(200, [group], headers={"x-total-count": "1"})
        return Response(404, {"message": "Not Found"})


def _credential(request: Request) -> str:
    """The API key, or the access token a service account minted (sent as Bearer)."""
    bearer = request.headers.get("authorization", "")
    return (
        bearer.removeprefix("Bearer ")
        if bearer.startswith("Bearer ")
        else request.headers.get("x-api-key", "")
    )


def _org(org_id: str) -> dict[str, object]:
    return {
        "_id": org_id,
        "id": org_id,
        "displayName": None,
        "logoUrl": None,
        "created": "2021-02-11T20:57:14.837Z",
    }


def _looks_like_object_id(value: str) -> bool:
    return len(value) == 24 and all(c in "0123456789abcdefABCDEF" for c in value)
