"""Webhook settings are checked at start-up, and the retry schedule keeps its promise: three retries
within a minute, then backing off, for at least a day."""

from __future__ import annotations

import base64

import pytest

from credvault.config import from_env
from credvault.domain.errors import ConfigError
from credvault.events.webhooks import RETRY_STEPS

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
SHORT = "whsec_" + base64.b64encode(b"short").decode()
URLS, KEY = "CREDVAULT_WEBHOOK_URLS", "CREDVAULT_WEBHOOK_SECRET"


def test_webhook_settings():
    events = from_env(
        {
            "CREDVAULT_WEBHOOK_URLS": "https://a.example/hook, http://127.0.0.1:9/x",
            "CREDVAULT_WEBHOOK_SECRET": SECRET,
        }
    ).events
    assert events.webhook_urls == ("https://a.example/hook", "http://127.0.0.1:9/x")
    assert SECRET not in repr(events)
    assert (events.retention, events.webhook_first_retry, events.webhook_retry_for) == (604800, 5, 86400)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"CREDVAULT_WEBHOOK_URLS": "https://a.example/hook"}, "CREDVAULT_WEBHOOK_SECRET"),
        (
            {"CREDVAULT_WEBHOOK_URLS": "ftp://a.example", "CREDVAULT_WEBHOOK_SECRET": SECRET},
            "CREDVAULT_WEBHOOK_URLS",
        ),
        ({"CREDVAULT_WEBHOOK_SECRET": "not-whsec"}, "CREDVAULT_WEBHOOK_SECRET"),
        (
            {"CREDVAULT_WEBHOOK_SECRET": "whsec_" + base64.b64encode(b"short").decode()},
            "CREDVAULT_WEBHOOK_SECRET",
        ),
        ({"CREDVAULT_EVENT_RETENTION": "0"}, "CREDVAULT_EVENT_RETENTION"),
    ],
)
def test_bad_webhook_settings_name_the_variable(env, names):
    with pytest.raises(ConfigError, match=names):
        from_env(env)


def test_retry_schedule():
    first_retry, retry_for = 5.0, 86400.0
    waits = [step * first_retry for step in RETRY_STEPS]
    assert sum(waits[:3]) < 60  # the first three retries within a minute
    assert waits == sorted(waits)  # then backing off
    elapsed, attempts = 0.0, 0
    while elapsed < retry_for:  # retried until a day has passed since the first failure
        elapsed += waits[min(attempts, len(waits) - 1)]
        attempts += 1
    assert max(waits) <= 6 * 3600 and attempts > len(RETRY_STEPS)
