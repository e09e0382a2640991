"""Waiting for something to become true (a server to answer, a process to exit), for the embedded
OpenBao, the tests and the benchmark alike: tenacity does the timing, this names the one way we use it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import tenacity

T = TypeVar("T")


def poll_until(ready: Callable[[], T], timeout: float, interval: float = 0.1) -> T | None:
    """Calls `ready` every `interval` seconds until it returns something true, and returns that; None
    when `timeout` seconds pass first. Exceptions from `ready` are not caught."""
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_delay(timeout),
        wait=tenacity.wait_fixed(interval),
        retry=tenacity.retry_if_result(lambda result: not result),
        retry_error_callback=lambda _state: None,
    )
    result: T | None = retrying(ready)
    return result
