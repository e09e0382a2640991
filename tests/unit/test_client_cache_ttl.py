"""GetAuthHeadersResponse.cache_ttl: CREDVAULT_CLIENT_CACHE_TTL, never past the credentials' expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from credvault.edge.servicer import client_cache_ttl


def test_the_setting_when_the_credentials_do_not_expire():
    assert client_cache_ttl(timedelta(seconds=300), None).ToTimedelta() == timedelta(seconds=300)


def test_never_past_the_credentials_expiry():
    soon = datetime.now(UTC) + timedelta(seconds=30)
    assert (
        timedelta(seconds=28)
        < client_cache_ttl(timedelta(seconds=300), soon).ToTimedelta()
        <= timedelta(seconds=30)
    )


def test_zero_once_expired_or_turned_off():
    past = datetime.now(UTC) - timedelta(seconds=1)
    assert client_cache_ttl(timedelta(seconds=300), past).ToTimedelta() == timedelta(0)
    assert client_cache_ttl(timedelta(0), None).ToTimedelta() == timedelta(0)
