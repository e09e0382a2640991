"""The one reader of host:port settings."""

from __future__ import annotations

import pytest

from credvault.hostport import HostPort, parse_host_port


@pytest.mark.parametrize(
    ("text", "parsed", "shown"),
    [
        ("127.0.0.1:50051", HostPort("127.0.0.1", 50051), "127.0.0.1:50051"),
        ("[::]:0", HostPort("::", 0), "[::]:0"),
        (":50051", HostPort("", 50051), ":50051"),
        ("LocalHost:7000", HostPort("localhost", 7000), "localhost:7000"),
    ],
)
def test_host_port_forms(text, parsed, shown):
    assert parse_host_port(text) == parsed
    assert str(parsed) == shown


@pytest.mark.parametrize(
    "text",
    ["127.0.0.1", "host:port", "[::1", "[::1]", "a/b:1", "user@h:1", "h:1?x", "h:70000", "unix:/x", ""],
)
def test_anything_else_is_refused(text):
    with pytest.raises(ValueError):
        parse_host_port(text)
