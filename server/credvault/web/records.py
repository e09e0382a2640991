"""What the Connect page leaves behind: one audit record per attempt to open or complete a session
(like any access to credentials, failures included), and one access log line per request, never with
the query (which holds a link's token)."""

from __future__ import annotations

import logging
import time

from aiohttp import web

from credvault.domain.connect_session import ConnectSessionRecord
from credvault.edge.audit import AuditRecord, emit
from credvault.web.security import Handler

log = logging.getLogger("credvault.web.access")


def audit(
    request: web.Request,
    action: str,
    session_id: str,
    record: ConnectSessionRecord | None,
    outcome: str,
    reason: str,
) -> None:
    """One audit record per attempt to open or complete a session, like any access to credentials."""
    emit(
        AuditRecord(
            caller="connect-page",
            auth="link" if action == "Open" else "cookie",
            peer=request.remote or "",
            method=f"ConnectPage.{action}",
            tenant_id=record.tenant_id if record else "",
            connection_id=record.connection_id if record else "",
            outcome=outcome,
            reason=reason,
            connect_session_id=session_id,
        )
    )


@web.middleware
async def access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One line per request: method, path (never the query, which holds a link's token), status."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        log.info(
            "%s %s %d %.1fms",
            request.method,
            request.path,
            status,
            (time.perf_counter() - started) * 1000,
            extra={"peer": request.remote or ""},
        )
