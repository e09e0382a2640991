"""Request ids: which a caller may choose, and that log lines carry them."""

from __future__ import annotations

import asyncio
import json
import logging
import sys

import pytest

from credvault.config import VaultSettings
from credvault.logs import JsonFormatter, RequestIdFilter, choose_request_id, request_id
from credvault.metrics import Metrics
from credvault.vault.store import VaultStore


@pytest.mark.parametrize(
    "given",
    ["4bf92f3577b34da6a3ce929d0e0e4736", "01HGW2N7EHJVD8V4S0ZQ9F3K2M", "req-1.2:3_x", "a" * 128],
)
def test_well_formed_request_ids_are_kept(given):
    assert choose_request_id((("x-request-id", given),)) == given


@pytest.mark.parametrize("given", ["", "a" * 129, "-leading-dash", "new\nline", "a b", "ключ", "x;y"])
def test_other_request_ids_are_replaced(given):
    chosen = choose_request_id((("x-request-id", given),))
    assert chosen != given and len(chosen) == 32


def test_log_lines_carry_the_current_request_id():
    record = logging.makeLogRecord({"msg": "hello", "levelname": "INFO", "name": "t"})
    token = request_id.set("abc-123")
    try:
        assert RequestIdFilter().filter(record)
    finally:
        request_id.reset(token)
    assert json.loads(JsonFormatter().format(record))["request_id"] == "abc-123"


def test_vault_calls_run_in_threads_that_see_the_request_id():
    """Log lines written in the Vault threads carry the id too; the metrics timer sees each call."""
    metrics = Metrics()
    store = VaultStore(VaultSettings(addr="http://127.0.0.1:9"), timed=metrics.vault_call)

    async def call() -> str | None:
        request_id.set("rid-1")
        return await store._run("read", request_id.get, deadline=None)

    try:
        assert asyncio.run(call()) == "rid-1"
    finally:
        store.close()
    labels = {"operation": "read", "outcome": "ok"}
    assert metrics.registry.get_sample_value("credvault_vault_request_duration_seconds_count", labels) == 1


def test_a_logged_exception_shows_its_type_and_place_never_its_text():
    secret = "s3cret"
    try:
        raise ValueError(f"token={secret}")
    except ValueError:
        record = logging.getLogger("t").makeRecord("t", logging.ERROR, __file__, 1, "failed", (), None)
        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert line["exception"] == "ValueError"
    assert "test_a_logged_exception_shows_its_type_and_place" in line["traceback"]
    assert "s3cret" not in json.dumps(line)
