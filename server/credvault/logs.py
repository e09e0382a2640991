"""Structured logs: one JSON object per line on stderr.

Third-party loggers that can print request headers or bodies at DEBUG (httpx, httpcore, hpack,
urllib3, hvac) are held at WARNING whatever the level, so no credential reaches a log line.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

QUIET_LOGGERS = ("httpx", "httpcore", "hpack", "urllib3", "hvac", "asyncio", "grpc")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    logging.getLogger("credvault.audit").setLevel(logging.INFO)
