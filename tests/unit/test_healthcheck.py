"""Where `credvault healthcheck` looks for the server."""

from __future__ import annotations

import pytest

from credvault.domain.errors import ConfigError
from credvault.healthcheck import local_address


@pytest.mark.parametrize(
    ("listen", "address"),
    [
        ("0.0.0.0:50051", "127.0.0.1:50051"),
        ("[::]:50051", "[::1]:50051"),
        (":50051", "127.0.0.1:50051"),
        ("10.0.0.5:7000", "10.0.0.5:7000"),
    ],
)
def test_healthcheck_reaches_a_wildcard_listener_on_loopback(listen, address):
    assert local_address(listen) == address


@pytest.mark.parametrize("listen", ["127.0.0.1:0", "127.0.0.1", "host:port"])
def test_healthcheck_needs_a_real_port(listen):
    with pytest.raises(ConfigError, match="CREDVAULT_LISTEN"):
        local_address(listen)


@pytest.mark.parametrize(
    ("dns", "expected"),
    [
        (("credvault.internal", "other"), "credvault.internal"),
        (("*.svc.internal",), "healthcheck.svc.internal"),
    ],
)
def test_healthcheck_checks_the_server_certificate_under_its_own_name(tmp_path, dns, expected):
    from certs import CertificateAuthority

    from credvault.healthcheck import _name

    issued = CertificateAuthority(tmp_path).issue("cn-name", dns=dns, server=True, loopback=False)
    assert _name(issued.cert.read_bytes()) == expected
