"""`Client`: one method per RPC, with keyword arguments, a default deadline per call, and typed
exceptions (credvault_client.errors) instead of bare grpc.RpcError."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

import grpc

from credvault_client.channel import DEFAULT_KEEPALIVE, Keepalive, open_channel
from credvault_client.errors import from_rpc_error
from credvault_client.header_cache import DEFAULT_SIZE, AuthHeaderCache
from credvault_client.v1 import credvault_pb2 as pb
from credvault_client.v1 import credvault_pb2_grpc

Request = TypeVar("Request")
Response = TypeVar("Response")

DEFAULT_TIMEOUTS: Mapping[str, float] = {
    "CreateConnection": 30.0,
    "UpdateConnection": 30.0,
    "VerifyConnection": 30.0,
    "DeleteConnection": 10.0,
    "GetConnection": 5.0,
    "ListConnections": 10.0,
    "GetAuthHeaders": 5.0,
    "ListProviders": 5.0,
    "CreateConnectSession": 10.0,
    "GetConnectSession": 5.0,
}
"""Seconds each call may take unless the caller passes `timeout`. Calls that check credentials with the
provider get longer: the server gives the provider up to CREDVAULT_VERIFY_TIMEOUT (10 s) plus Vault
time. A retried call's attempts all share its one deadline."""


class Client:
    """A credvault client over a gRPC channel. Use `Client.connect(...)` or pass your own channel.

    `cache_auth_headers=True` keeps `get_auth_headers` answers in memory for as long as the server's
    `cache_ttl` allows, dropped at once when the connection changes (see `header_cache`); at most
    `cache_size` connections. Call `close()` (or use `with`) to end its event streams.
    """

    def __init__(
        self,
        channel: grpc.Channel,
        *,
        timeouts: Mapping[str, float] | None = None,
        cache_auth_headers: bool = False,
        cache_size: int = DEFAULT_SIZE,
    ) -> None:
        self.channel = channel
        self.stub = credvault_pb2_grpc.CredentialVaultStub(channel)
        self.timeouts = {**DEFAULT_TIMEOUTS, **(timeouts or {})}
        self.header_cache = (
            AuthHeaderCache(self.stub, self._fetch_auth_headers, size=cache_size)
            if cache_auth_headers
            else None
        )

    @classmethod
    def connect(
        cls,
        target: str,
        *,
        tls: bool | None = None,
        root_certificates: bytes | None = None,
        token: str | None = None,
        keepalive: Keepalive | None = DEFAULT_KEEPALIVE,
        options: Sequence[tuple[str, Any]] = (),
        timeouts: Mapping[str, float] | None = None,
        cache_auth_headers: bool = False,
        cache_size: int = DEFAULT_SIZE,
    ) -> Client:
        """A client on a new channel; see `open_channel` for the TLS, token and keepalive options."""
        channel = open_channel(
            target,
            tls=tls,
            root_certificates=root_certificates,
            token=token,
            keepalive=keepalive,
            options=options,
        )
        return cls(channel, timeouts=timeouts, cache_auth_headers=cache_auth_headers, cache_size=cache_size)

    def close(self) -> None:
        if self.header_cache is not None:
            self.header_cache.close()
        self.channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def create_connection(
        self,
        tenant_id: str,
        provider: str,
        credentials: Mapping[str, str],
        *,
        connection_id: str = "",
        config: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> pb.Connection:
        """Verifies the credentials with the provider and stores the connection (never retried)."""
        request = pb.CreateConnectionRequest(
            tenant_id=tenant_id,
            connection_id=connection_id,
            provider=provider,
            credentials=credentials,
            config=config,
            labels=labels,
        )
        return self._call(self.stub.CreateConnection, "CreateConnection", request, timeout)

    def get_connection(
        self, tenant_id: str, connection_id: str, *, timeout: float | None = None
    ) -> pb.Connection:
        request = pb.GetConnectionRequest(tenant_id=tenant_id, connection_id=connection_id)
        return self._call(self.stub.GetConnection, "GetConnection", request, timeout)

    def list_connections(
        self,
        tenant_id: str,
        *,
        provider: str = "",
        page_size: int = 0,
        page_token: str = "",
        timeout: float | None = None,
    ) -> pb.ListConnectionsResponse:
        """One page; `iter_connections` walks them all."""
        request = pb.ListConnectionsRequest(
            tenant_id=tenant_id, provider=provider, page_size=page_size, page_token=page_token
        )
        return self._call(self.stub.ListConnections, "ListConnections", request, timeout)

    def iter_connections(
        self, tenant_id: str, *, provider: str = "", page_size: int = 0, timeout: float | None = None
    ) -> Iterator[pb.Connection]:
        """Every connection of the tenant, page by page (`timeout` applies to each page)."""
        token = ""
        while True:
            page = self.list_connections(
                tenant_id, provider=provider, page_size=page_size, page_token=token, timeout=timeout
            )
            yield from page.connections
            token = page.next_page_token
            if not token:
                return

    def update_connection(
        self,
        tenant_id: str,
        connection_id: str,
        *,
        credentials: Mapping[str, str] | None = None,
        config: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        update_mask: Sequence[str] = (),
        timeout: float | None = None,
    ) -> pb.Connection:
        """Replaces what is given (or what `update_mask` names; name a field there to clear it)."""
        request = pb.UpdateConnectionRequest(
            tenant_id=tenant_id,
            connection_id=connection_id,
            credentials=credentials,
            config=config,
            labels=labels,
        )
        request.update_mask.paths.extend(update_mask)
        try:
            return self._call(self.stub.UpdateConnection, "UpdateConnection", request, timeout)
        finally:
            self._forget(tenant_id, connection_id)

    def delete_connection(
        self, tenant_id: str, connection_id: str, *, allow_missing: bool = False, timeout: float | None = None
    ) -> None:
        request = pb.DeleteConnectionRequest(
            tenant_id=tenant_id, connection_id=connection_id, allow_missing=allow_missing
        )
        try:
            self._call(self.stub.DeleteConnection, "DeleteConnection", request, timeout)
        finally:
            self._forget(tenant_id, connection_id)

    def verify_connection(
        self, tenant_id: str, connection_id: str, *, timeout: float | None = None
    ) -> pb.VerifyConnectionResponse:
        """Checks the stored credentials with the provider; a rejection is `outcome.ok == False`."""
        request = pb.VerifyConnectionRequest(tenant_id=tenant_id, connection_id=connection_id)
        try:
            return self._call(self.stub.VerifyConnection, "VerifyConnection", request, timeout)
        finally:
            self._forget(tenant_id, connection_id)

    def get_auth_headers(
        self, tenant_id: str, connection_id: str, *, timeout: float | None = None
    ) -> pb.GetAuthHeadersResponse:
        """The headers (secret: never log them) and base URL to call the provider with. With the cache
        on, the answer may be shared with other callers: read it, never modify it."""
        if self.header_cache is not None:
            return self.header_cache.get(
                tenant_id, connection_id, self.timeouts["GetAuthHeaders"] if timeout is None else timeout
            )
        return self._fetch_auth_headers(tenant_id, connection_id, timeout)

    def list_providers(self, *, timeout: float | None = None) -> list[pb.Provider]:
        response = self._call(self.stub.ListProviders, "ListProviders", pb.ListProvidersRequest(), timeout)
        return list(response.providers)

    def create_connect_session(
        self,
        tenant_id: str,
        *,
        providers: Sequence[str] = (),
        connection_id: str = "",
        labels: Mapping[str, str] | None = None,
        return_url: str = "",
        ttl: float | None = None,
        timeout: float | None = None,
    ) -> pb.ConnectSession:
        """A link (`connect_url`, secret: hand it only to the person) to the Connect page, where that
        person enters their own credentials. `connection_id` of an existing connection: reconnect it.
        `ttl` in seconds (1 to 86400; None: 30 minutes). Never retried."""
        request = pb.CreateConnectSessionRequest(
            tenant_id=tenant_id,
            providers=providers,
            connection_id=connection_id,
            labels=labels,
            return_url=return_url,
        )
        if ttl is not None:
            request.ttl.FromNanoseconds(round(ttl * 1e9))
        return self._call(self.stub.CreateConnectSession, "CreateConnectSession", request, timeout)

    def get_connect_session(
        self, tenant_id: str, session_id: str, *, timeout: float | None = None
    ) -> pb.ConnectSession:
        """The session's state (PENDING, COMPLETED with its connection_id, or EXPIRED)."""
        request = pb.GetConnectSessionRequest(tenant_id=tenant_id, session_id=session_id)
        return self._call(self.stub.GetConnectSession, "GetConnectSession", request, timeout)

    def watch_events(
        self, tenant_id: str, *, after: str = "", timeout: float | None = None
    ) -> Iterator[pb.ConnectionEvent]:
        """The tenant's connection events after the cursor `after` (empty: from now), as they happen,
        in order; the stream never ends by itself (`timeout`: seconds until it ends with
        DeadlineExceededError). Pass an event's `cursor` as `after` to resume after it; OutOfRangeError:
        the cursor is too old, list the connections again and watch from now. Leave the loop to stop."""
        request = pb.WatchConnectionEventsRequest(tenant_id=tenant_id, after=after)
        call = self.stub.WatchConnectionEvents(request, timeout=timeout)
        try:
            yield from call
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error
        finally:
            call.cancel()  # type: ignore[attr-defined]  # a stream call is also a grpc.Call

    def _fetch_auth_headers(
        self, tenant_id: str, connection_id: str, timeout: float | None
    ) -> pb.GetAuthHeadersResponse:
        request = pb.GetAuthHeadersRequest(tenant_id=tenant_id, connection_id=connection_id)
        return self._call(self.stub.GetAuthHeaders, "GetAuthHeaders", request, timeout)

    def _forget(self, tenant_id: str, connection_id: str) -> None:
        """This client's own changes show in its cache at once, before their event arrives."""
        if self.header_cache is not None:
            self.header_cache.drop(tenant_id, connection_id)

    def _call(
        self,
        method: grpc.UnaryUnaryMultiCallable[Request, Response],
        name: str,
        request: Request,
        timeout: float | None,
    ) -> Response:
        try:
            return method(request, timeout=self.timeouts[name] if timeout is None else timeout)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error
