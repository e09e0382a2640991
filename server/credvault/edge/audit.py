"""The audit trail: one JSON line per credential access or change on the `credvault.audit` logger.

A record says who (the caller's name and how it proved it), from where, which connection, what
(the RPC), and the outcome (OK or the status code, with the ErrorInfo reason). It never holds a
credential: only the ids, taken from the request and the response, are read. The logger is kept at
INFO whatever CREDVAULT_LOG_LEVEL says, so audit records are never filtered out with the debug noise.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

log = logging.getLogger("credvault.audit")
MAX_SHOWN = 130
"""Characters of a request's id kept in a record (longer ids are invalid and clipped)."""


@dataclass(frozen=True)
class AuditRecord:
    caller: str
    """The caller's name in the access policy; "anonymous" when caller authentication is off or failed."""
    auth: str
    """How the caller proved who it is: "certificate", "token" or "none"."""
    peer: str
    method: str
    tenant_id: str
    connection_id: str
    outcome: str
    """OK, or the gRPC status code name."""
    reason: str = ""
    connect_session_id: str = ""
    """The Connect session, for attempts made through the Connect page."""


def emit(record: AuditRecord) -> None:
    fields = {k: _clip(v) for k, v in asdict(record).items()}
    log.info(
        "%s by %s on %s/%s: %s",
        record.method,
        fields["caller"],
        fields["tenant_id"],
        fields["connection_id"],
        record.outcome,
        extra={"audit": fields},
    )


def _clip(value: str) -> str:
    return value if len(value) <= MAX_SHOWN else value[:MAX_SHOWN] + "…"
