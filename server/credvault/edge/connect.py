"""Connect sessions on the wire: requests read into the use case's terms, records into messages."""

from __future__ import annotations

from datetime import timedelta

from google.protobuf import timestamp_pb2

from credvault.domain.connect_session import ConnectSessionRecord, SessionState
from credvault.v1 import credvault_pb2 as pb

_STATE = {
    SessionState.PENDING: pb.CONNECT_SESSION_STATE_PENDING,
    SessionState.COMPLETED: pb.CONNECT_SESSION_STATE_COMPLETED,
    SessionState.EXPIRED: pb.CONNECT_SESSION_STATE_EXPIRED,
}


def requested_ttl(request: pb.CreateConnectSessionRequest) -> timedelta | None:
    """The ttl asked for; None when unset (the default applies)."""
    if not request.HasField("ttl"):
        return None
    return timedelta(seconds=request.ttl.seconds, microseconds=request.ttl.nanos // 1000)


def session_message(record: ConnectSessionRecord, connect_url: str = "") -> pb.ConnectSession:
    created, expires = timestamp_pb2.Timestamp(), timestamp_pb2.Timestamp()
    created.FromDatetime(record.created_at)
    expires.FromDatetime(record.expires_at)
    return pb.ConnectSession(
        session_id=record.session_id,
        connect_url=connect_url,
        tenant_id=record.tenant_id,
        providers=record.providers,
        connection_id=record.shown_connection_id,
        state=_STATE[record.state],
        expires_at=expires,
        created_at=created,
    )
