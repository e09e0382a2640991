"""Reads HTTP's Retry-After, which both providers and Vault send when they want a pause."""

from __future__ import annotations

import email.utils
import time

MAX_RETRY_AFTER = 3600.0
"""Seconds: the longest pause a Retry-After may ask for. Longer ones (a 20-digit number would overflow a
protobuf Duration) are read as this."""


def retry_after_seconds(value: str | None) -> float | None:
    """Parses Retry-After as seconds or as an HTTP date, at most MAX_RETRY_AFTER; None when absent or
    unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return min(max(0.0, when.timestamp() - time.time()), MAX_RETRY_AFTER)
