"""Who is calling, may they, and the audit record of it: one interceptor in front of every
CredentialVault RPC, run before the servicer so that nothing reaches Vault or a provider first.

Order per call: identify the caller (UNAUTHENTICATED without a valid identity), check the access policy
for the method and the request's tenant (PERMISSION_DENIED), check the request's sizes
(INVALID_ARGUMENT), run the RPC, write one audit record. Errors are raised as credvault errors, which
`credvault.edge.status.ErrorInterceptor` (the outer interceptor) turns into statuses.

Identity: an `authorization: Bearer <token>` header, when sent, must be valid and names a token caller;
otherwise the client certificate (mTLS) names a certificate caller, by its subject alternative names (its
common name only when it has none; see `credvault.access`). Health checks and reflection are not
intercepted: probes need health, and the schema reflection serves is public.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import DecodeError

from credvault.domain.errors import (
    CredvaultError,
    FieldViolation,
    InvalidArgumentError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from credvault.edge.access import METHODS, AccessPolicy
from credvault.edge.audit import AuditRecord, emit
from credvault.edge.interceptor import (
    Behavior,
    Context,
    Deserializer,
    MethodHandler,
    StreamBehavior,
    UnaryInterceptor,
)
from credvault.edge.limits import check_request
from credvault.edge.unguarded import guardable, refusing
from credvault.v1 import credvault_pb2

SERVICE_PREFIX = f"/{credvault_pb2.DESCRIPTOR.services_by_name['CredentialVault'].full_name}/"
OPEN_METHODS = frozenset({"ListProviders"})
"""Methods every identified caller may use: they touch no tenant's data."""
_ALTERNATIVE_NAMES = ("peer_spiffe_id", "x509_subject_alternative_name")
"""Where gRPC puts a client certificate's subject alternative names (a SPIFFE id is in both)."""


class Malformed:
    """Stands for a request whose bytes did not decode (see `AccessInterceptor.decoder`)."""


@dataclass(frozen=True)
class Caller:
    name: str
    auth: str
    """"certificate", "token" or "none"."""


ANONYMOUS = Caller("anonymous", "none")


class AccessInterceptor(UnaryInterceptor):
    """Authenticates, authorises, bounds and audits every CredentialVault call. With no policy, caller
    authentication is off (every caller is "anonymous" and may do everything) but limits and audit hold."""

    def __init__(self, policy: AccessPolicy | None) -> None:
        super().__init__()
        self._policy = policy

    def handler_for(self, handler: MethodHandler, method: str) -> MethodHandler:
        """Guards every CredentialVault method it knows; refuses the rest (see `credvault.edge.unguarded`)."""
        name = method.removeprefix(SERVICE_PREFIX)
        if method.startswith(SERVICE_PREFIX) and (name not in METHODS or not guardable(handler)):
            return refusing(handler, method)
        return super().handler_for(handler, method)

    def wrap(self, behavior: Behavior, method: str) -> Behavior:
        if not method.startswith(SERVICE_PREFIX):
            return behavior  # health and reflection
        return self._guard(behavior, method.removeprefix(SERVICE_PREFIX))

    def wrap_stream(self, behavior: StreamBehavior, method: str) -> StreamBehavior:
        """The same checks before a stream's first message; its audit record is written when it ends."""
        if not method.startswith(SERVICE_PREFIX):
            return behavior
        name = method.removeprefix(SERVICE_PREFIX)

        async def guarded(request: Any, context: Context) -> AsyncIterator[Any]:
            caller, outcome, reason = ANONYMOUS, "INTERNAL", ""
            try:
                caller = self.identify(context)
                self._admit_identified(caller, name, request)
                async for message in behavior(request, context):
                    yield message
                outcome = "OK"
            except CredvaultError as error:
                outcome, reason = error.code, error.reason
                raise
            except asyncio.CancelledError:
                outcome = "CANCELLED"
                raise
            finally:
                emit(_record(caller, context, name, request, None, outcome, reason))

        return guarded

    def _admit_identified(self, caller: Caller, method: str, request: Any) -> None:
        """Checks the policy and the request's sizes for an identified caller; raises when refused."""
        if isinstance(request, Malformed):
            raise InvalidArgumentError(
                [FieldViolation("request", f"not a valid {method} request message (bad protobuf or UTF-8)")]
            )
        self._authorise(caller, method, request)
        check_request(request)

    def decoder(self, deserializer: Deserializer | None) -> Deserializer | None:
        """Bytes that do not decode become `Malformed`, answered INVALID_ARGUMENT (gRPC would answer
        INTERNAL)."""
        if deserializer is None:
            return None
        parse = deserializer

        def deserialize(data: bytes) -> Any:
            try:
                return parse(data)
            except DecodeError:
                return Malformed()

        return deserialize

    def _guard(self, behavior: Behavior, method: str) -> Behavior:
        async def guarded(request: Any, context: Context) -> Any:
            caller, outcome, reason, response = ANONYMOUS, "INTERNAL", "", None
            try:
                caller = self.identify(context)
                self._admit_identified(caller, method, request)
                response = await behavior(request, context)
                outcome = "OK"
                return response
            except CredvaultError as error:
                outcome, reason = error.code, error.reason
                raise
            except asyncio.CancelledError:
                outcome = "CANCELLED"
                raise
            finally:
                if method not in OPEN_METHODS or outcome != "OK":
                    emit(_record(caller, context, method, request, response, outcome, reason))

        return guarded

    def identify(self, context: Context) -> Caller:
        if self._policy is None:
            return ANONYMOUS
        tokens = [v for k, v in context.invocation_metadata() or () if k == "authorization"]
        if tokens:
            return Caller(self._token_caller(tokens), "token")
        auth_context = context.auth_context()
        sans = _names(auth_context, *_ALTERNATIVE_NAMES)
        common_name = next(iter(_names(auth_context, "x509_common_name")), None)
        if not sans and common_name is None:
            raise UnauthenticatedError(
                "no caller identity: send 'authorization: Bearer <token>' or a client certificate",
                reason="IDENTITY_MISSING",
            )
        names = self._policy.callers_for_certificate(sans, common_name)
        if len(names) > 1:
            raise UnauthenticatedError(
                "the client certificate's names match more than one caller of the access policy; "
                "issue it with the name of one caller only",
                reason="CERTIFICATE_AMBIGUOUS",
            )
        if not names:
            raise PermissionDeniedError(
                "the client certificate is valid but the access policy lists none of its names as a "
                "certificate caller",
                reason="CALLER_NOT_IN_POLICY",
            )
        return Caller(names.pop(), "certificate")

    def _token_caller(self, values: list[str | bytes]) -> str:
        assert self._policy is not None
        value = values[0] if len(values) == 1 else b""
        scheme, _, token = (value.decode("latin-1") if isinstance(value, bytes) else value).partition(" ")
        name = self._policy.caller_for_token(token.strip()) if scheme.lower() == "bearer" else None
        if name is None:
            raise UnauthenticatedError(
                "the authorization header is not one valid 'Bearer <token>'", reason="TOKEN_INVALID"
            )
        return name

    def _authorise(self, caller: Caller, method: str, request: Any) -> None:
        if self._policy is None or method in OPEN_METHODS:
            return
        grant = self._policy.grant(caller.name)
        tenant_id = getattr(request, "tenant_id", None)
        if grant is None or not grant.allows(method, None):
            raise PermissionDeniedError(
                f"caller {caller.name} may not call {method}",
                reason="METHOD_NOT_ALLOWED",
                metadata={"caller": caller.name, "method": method},
            )
        if not grant.allows(method, tenant_id):
            raise PermissionDeniedError(
                f"caller {caller.name} may not call {method} for this tenant",
                reason="TENANT_NOT_ALLOWED",
                metadata={"caller": caller.name, "method": method},
            )


def _names(auth_context: Mapping[str, Iterable[bytes]], *keys: str) -> set[str]:
    return {value.decode("utf-8", "replace") for key in keys for value in auth_context.get(key, ())}


def _record(
    caller: Caller,
    context: Context,
    method: str,
    request: Any,
    response: Any,
    outcome: str,
    reason: str,
) -> AuditRecord:
    connection_id = str(getattr(request, "connection_id", ""))
    if not connection_id and isinstance(response, credvault_pb2.Connection):
        connection_id = response.connection_id  # a CreateConnection that let the server pick the id
    return AuditRecord(
        caller=caller.name,
        auth=caller.auth,
        peer=context.peer(),
        method=method,
        tenant_id=str(getattr(request, "tenant_id", "")),
        connection_id=connection_id,
        outcome=outcome,
        reason=reason,
    )
