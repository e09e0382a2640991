"""Metric labels hold fixed names only, never free text from errors or plugins."""

from __future__ import annotations

import pytest

from credvault.domain.errors import NotFoundError
from credvault.metrics import Metrics


def test_vault_call_outcomes_are_error_reasons_never_free_text():
    metrics = Metrics()
    with pytest.raises(NotFoundError), metrics.vault_call("read"):
        raise NotFoundError("no connection secret-looking-id for tenant acme")
    with pytest.raises(NotFoundError), metrics.vault_call("read"):
        raise NotFoundError("plugin text", reason="not an UPPER_SNAKE reason")
    metrics.verification("jumpcloud", "rejected", "api key abc is wrong", 0.1)
    count = metrics.registry.get_sample_value
    labels = {"operation": "read", "outcome": "CONNECTION_NOT_FOUND"}
    assert count("credvault_vault_request_duration_seconds_count", labels) == 1
    assert count("credvault_vault_request_duration_seconds_count", {**labels, "outcome": "OTHER"}) == 1
    verdict = {"provider": "jumpcloud", "result": "rejected", "reason": "OTHER"}
    assert count("credvault_verifications_total", verdict) == 1
