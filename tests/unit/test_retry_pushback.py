"""The retry pushback an UNAVAILABLE carries: the same delay as its RetryInfo, or no retry at all when
the caller's deadline ends first."""

from __future__ import annotations

from credvault.domain.errors import InvalidArgumentError, StoreUnavailableError
from credvault.edge.status import PUSHBACK_KEY, pushback


def test_an_unavailable_asks_for_its_retry_delay():
    assert pushback(StoreUnavailableError("down"), time_left=None) == ((PUSHBACK_KEY, "1000"),)
    assert pushback(StoreUnavailableError("down"), time_left=5.0) == ((PUSHBACK_KEY, "1000"),)


def test_a_retry_after_is_passed_on():
    slow = StoreUnavailableError("sealed", retry_after=2.5)
    assert pushback(slow, time_left=10.0) == ((PUSHBACK_KEY, "2500"),)


def test_no_retry_when_the_deadline_ends_before_the_delay():
    assert pushback(StoreUnavailableError("down"), time_left=0.9) == ((PUSHBACK_KEY, "-1"),)
    assert pushback(StoreUnavailableError("sealed", retry_after=30.0), time_left=10.0) == (
        (PUSHBACK_KEY, "-1"),
    )


def test_other_codes_carry_none():
    assert pushback(InvalidArgumentError([]), time_left=5.0) == ()
