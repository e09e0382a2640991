"""The gRPC face of the service: turns requests into service calls and records into messages.
Knows nothing of Vault or HTTP; errors are mapped by `credvault.edge.status`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from google.protobuf import duration_pb2, timestamp_pb2

from credvault.domain.connect import ConnectService
from credvault.domain.errors import FailedPreconditionError, FieldViolation, InvalidArgumentError
from credvault.domain.model import ConnectionRecord, Deadline, Outcome, Status
from credvault.domain.service import UPDATABLE, CredentialService
from credvault.edge.connect import requested_ttl, session_message
from credvault.edge.interceptor import Context
from credvault.events.feed import EventFeed
from credvault.events.model import Event, EventType
from credvault.providers.spec import FieldLocation, ProviderSpec
from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc as pb_grpc

WATCHING = (("credvault-watch", "live"),)
"""The initial metadata of WatchConnectionEvents once the watch is in place: a refusal has none, which
some clients (grpc-go 1.33) cannot tell from empty headers."""

_STATUS = {
    Status.ACTIVE: pb.CONNECTION_STATUS_ACTIVE,
    Status.INVALID: pb.CONNECTION_STATUS_INVALID,
    Status.EXPIRED: pb.CONNECTION_STATUS_EXPIRED,
}
_LOCATION = {
    FieldLocation.CREDENTIALS: pb.FIELD_LOCATION_CREDENTIALS,
    FieldLocation.CONFIG: pb.FIELD_LOCATION_CONFIG,
}


def _deadline(context: Context) -> Deadline:
    return Deadline(context.time_remaining())


class CredentialVaultServicer(pb_grpc.CredentialVaultServicer):
    def __init__(
        self,
        service: CredentialService,
        feed: EventFeed,
        client_cache_ttl: float = 0.0,
        connect: ConnectService | None = None,
    ) -> None:
        self._service = service
        self._feed = feed
        self._client_cache_ttl = timedelta(seconds=client_cache_ttl)
        self._connect = connect

    async def CreateConnection(self, request: pb.CreateConnectionRequest, context: Context) -> pb.Connection:
        record = await self._service.create(
            tenant_id=request.tenant_id,
            connection_id=request.connection_id,
            provider=request.provider,
            credentials=dict(request.credentials),
            config=dict(request.config),
            labels=dict(request.labels),
            deadline=_deadline(context),
        )
        return connection_message(record)

    async def GetConnection(self, request: pb.GetConnectionRequest, context: Context) -> pb.Connection:
        record = await self._service.get(request.tenant_id, request.connection_id, _deadline(context))
        return connection_message(record)

    async def ListConnections(
        self, request: pb.ListConnectionsRequest, context: Context
    ) -> pb.ListConnectionsResponse:
        records, token = await self._service.list(
            request.tenant_id, request.provider, request.page_size, request.page_token, _deadline(context)
        )
        return pb.ListConnectionsResponse(
            connections=[connection_message(r) for r in records], next_page_token=token
        )

    async def UpdateConnection(self, request: pb.UpdateConnectionRequest, context: Context) -> pb.Connection:
        given = {"credentials": request.credentials, "config": request.config, "labels": request.labels}
        paths = list(request.update_mask.paths)
        unknown = [p for p in paths if p not in UPDATABLE]
        if unknown:
            raise InvalidArgumentError(
                [FieldViolation("update_mask", f"paths may be {', '.join(UPDATABLE)}; got an unknown path")]
            )
        chosen = paths or [name for name in UPDATABLE if given[name]]
        record = await self._service.update(
            request.tenant_id,
            request.connection_id,
            {name: dict(given[name]) for name in chosen},
            _deadline(context),
        )
        return connection_message(record)

    async def DeleteConnection(
        self, request: pb.DeleteConnectionRequest, context: Context
    ) -> pb.DeleteConnectionResponse:
        await self._service.delete(
            request.tenant_id, request.connection_id, request.allow_missing, _deadline(context)
        )
        return pb.DeleteConnectionResponse()

    async def VerifyConnection(
        self, request: pb.VerifyConnectionRequest, context: Context
    ) -> pb.VerifyConnectionResponse:
        record = await self._service.verify(request.tenant_id, request.connection_id, _deadline(context))
        message = connection_message(record)
        return pb.VerifyConnectionResponse(connection=message, outcome=message.last_outcome)

    async def GetAuthHeaders(
        self, request: pb.GetAuthHeadersRequest, context: Context
    ) -> pb.GetAuthHeadersResponse:
        auth = await self._service.auth_headers(request.tenant_id, request.connection_id, _deadline(context))
        return pb.GetAuthHeadersResponse(
            headers=auth.headers,
            base_url=auth.base_url,
            expires_at=_timestamp(auth.expires_at),
            query_params=auth.query_params,
            cache_ttl=client_cache_ttl(self._client_cache_ttl, auth.expires_at),
        )

    async def ListProviders(
        self, request: pb.ListProvidersRequest, context: Context
    ) -> pb.ListProvidersResponse:
        return pb.ListProvidersResponse(
            providers=[self._provider_message(spec) for spec in self._service.providers()]
        )

    async def CreateConnectSession(
        self, request: pb.CreateConnectSessionRequest, context: Context
    ) -> pb.ConnectSession:
        record, url = await self._connect_service().create_session(
            tenant_id=request.tenant_id,
            providers=list(request.providers),
            connection_id=request.connection_id,
            labels=dict(request.labels),
            return_url=request.return_url,
            ttl=requested_ttl(request),
            deadline=_deadline(context),
        )
        return session_message(record, url)

    async def GetConnectSession(
        self, request: pb.GetConnectSessionRequest, context: Context
    ) -> pb.ConnectSession:
        record = await self._connect_service().get_session(
            request.tenant_id, request.session_id, _deadline(context)
        )
        return session_message(record)

    def _connect_service(self) -> ConnectService:
        if self._connect is None:
            raise FailedPreconditionError("this server has no Connect page", reason="CONNECT_DISABLED")
        return self._connect

    async def WatchConnectionEvents(
        self, request: pb.WatchConnectionEventsRequest, context: Context
    ) -> AsyncIterator[pb.ConnectionEvent]:
        head, seq = await self._feed.position(request.tenant_id, request.after, context.time_remaining())
        await context.send_initial_metadata(WATCHING)  # tells the caller the watch is in place
        async for event, cursor in self._feed.follow(request.tenant_id, head, seq):
            yield event_message(event, cursor)

    def _provider_message(self, spec: ProviderSpec) -> pb.Provider:
        return pb.Provider(
            id=spec.id,
            display_name=spec.display_name,
            auth_mode=spec.auth_mode,
            docs_url=spec.docs_url,
            base_url_template=self._service.base_url_template(spec),
            fields=[
                pb.ProviderField(
                    name=f.name,
                    label=f.label,
                    description=f.description,
                    secret=f.secret,
                    required=f.required,
                    pattern=f.pattern,
                    example=f.example,
                    location=_LOCATION[f.location],
                    placeholder=f.placeholder,
                    help_text=f.help_text,
                )
                for f in spec.fields
            ],
            setup_steps=spec.setup_steps,
            warnings=spec.warnings,
        )


def connection_message(record: ConnectionRecord) -> pb.Connection:
    return pb.Connection(
        tenant_id=record.tenant_id,
        connection_id=record.connection_id,
        provider=record.provider,
        config=record.config,
        labels=record.labels,
        status=_STATUS[record.status],
        created_at=_timestamp(record.created_at),
        updated_at=_timestamp(record.updated_at),
        last_verified_at=_timestamp(record.last_verified_at),
        expires_at=_timestamp(record.expires_at),
        last_outcome=_outcome_message(record.last_outcome),
        next_check_at=_timestamp(record.next_check_at),
    )


_EVENT_TYPE = {t: pb.ConnectionEventType.Value(f"CONNECTION_EVENT_TYPE_{t.value}") for t in EventType}


def event_message(event: Event, cursor: str) -> pb.ConnectionEvent:
    return pb.ConnectionEvent(
        event_id=event.event_id,
        cursor=cursor,
        type=_EVENT_TYPE[event.type],
        tenant_id=event.tenant_id,
        connection_id=event.connection_id,
        provider=event.provider,
        status=_STATUS[event.status],
        outcome=_outcome_message(event.outcome),
        occurred_at=_timestamp(event.occurred_at),
        connect_session_id=event.connect_session_id,
    )


def _outcome_message(outcome: Outcome | None) -> pb.VerificationOutcome | None:
    if outcome is None:
        return None
    return pb.VerificationOutcome(
        ok=outcome.ok,
        reason=outcome.reason,
        provider_http_status=outcome.http_status,
        hint=outcome.hint,
        checked_at=_timestamp(outcome.checked_at),
    )


def _timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def client_cache_ttl(setting: timedelta, expires_at: datetime | None) -> duration_pb2.Duration:
    """How long a caller may reuse an answer: CREDVAULT_CLIENT_CACHE_TTL, cut short by the credentials'
    expiry; zero: do not cache."""
    ttl = setting if expires_at is None else min(setting, expires_at - datetime.now(UTC))
    duration = duration_pb2.Duration()
    duration.FromTimedelta(max(ttl, timedelta(0)))
    return duration
