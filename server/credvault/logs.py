"""Structured logs: one JSON object per line on stderr, each carrying the id of the RPC it was written
for, and one access line per RPC.

Every unary RPC gets a request id: the caller's `x-request-id` metadata when it is well-formed (so one
id can follow a request through several services), otherwise a fresh one. It is put on every log line
written while the RPC is served (a context variable read by a logging filter) and returned to the
caller as `x-request-id` trailing metadata, on errors too. The access line holds the method, status
code, duration, peer and user agent, never a request field.

Third-party loggers that can print request headers or bodies at DEBUG (httpx, httpcore, hpack,
urllib3, hvac) are held at WARNING whatever the level, so no credential reaches a log line.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
import uuid
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import grpc

from credvault.edge.interceptor import (
    Behavior,
    Context,
    StreamBehavior,
    UnaryInterceptor,
    reported,
    reported_stream,
)

QUIET_LOGGERS = ("httpx", "httpcore", "hpack", "urllib3", "hvac", "asyncio", "grpc")
REQUEST_ID_KEY = "x-request-id"
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
"""What a caller's request id may look like (UUIDs, trace ids, ULIDs); anything else is replaced."""
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

request_id: ContextVar[str | None] = ContextVar("credvault_request_id", default=None)
"""The id of the RPC being served in the current task (and threads it hands work to)."""

access_log = logging.getLogger("credvault.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info and record.exc_info[0] is not None:
            # The type and where it was raised, never the exception's text: that may hold a secret.
            kind, _, trace = record.exc_info
            entry["exception"] = kind.__name__
            entry["traceback"] = "".join(traceback.format_tb(trace))
        return json.dumps(entry, default=str)


class RequestIdFilter(logging.Filter):
    """Puts the current RPC's request id on the record (on the handler, so every logger gets it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = request_id.get()
        if current is not None:
            record.request_id = current
        return True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    logging.getLogger("credvault.audit").setLevel(logging.INFO)


def choose_request_id(metadata: grpc.aio.Metadata | None) -> str:
    """The caller's `x-request-id` when it is well-formed, else a new random one."""
    for key, value in metadata or ():
        if key == REQUEST_ID_KEY and isinstance(value, str) and REQUEST_ID_PATTERN.fullmatch(value):
            return value
    return uuid.uuid4().hex


def _user_agent(metadata: grpc.aio.Metadata | None) -> str:
    """The caller's gRPC library and version (grpc-python, grpc-node-js, grpc-go), cut short."""
    return next((str(value)[:120] for key, value in metadata or () if key == "user-agent"), "")


class RequestLogInterceptor(UnaryInterceptor):
    """Gives each unary RPC its request id and writes its access line. Register it first (outermost),
    so the id is set before anything else runs and the line sees the final status code."""

    def wrap(self, behavior: Behavior, method: str) -> Behavior:
        async def logged(request: Any, context: Context) -> Any:
            token = request_id.set(_start(context))
            try:
                return await reported(behavior, request, context, _access_line(method, context))
            finally:
                request_id.reset(token)

        return logged

    def wrap_stream(self, behavior: StreamBehavior, method: str) -> StreamBehavior:
        """The same for a stream: its access line is written when it ends."""

        async def logged(request: Any, context: Context) -> AsyncIterator[Any]:
            token = request_id.set(_start(context))
            try:
                async for message in reported_stream(
                    behavior, request, context, _access_line(method, context)
                ):
                    yield message
            finally:
                request_id.reset(token)

        return logged


def _start(context: Context) -> str:
    """Chooses the call's request id and sends it back in the trailers."""
    chosen = choose_request_id(context.invocation_metadata())
    context.set_trailing_metadata(((REQUEST_ID_KEY, chosen),))
    return chosen


def _access_line(method: str, context: Context) -> Callable[[str, float], None]:
    metadata = context.invocation_metadata()

    def access_line(code: str, seconds: float) -> None:
        access_log.info(
            "rpc",
            extra={
                "method": method,
                "code": code,
                "duration_ms": round(seconds * 1000, 2),
                "peer": context.peer(),
                "user_agent": _user_agent(metadata),
            },
        )

    return access_line
