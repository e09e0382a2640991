"""Whether a listening address is free, checked before anything starts: an embedded OpenBao takes seconds
to initialise and leaves a data directory, so a second server on a taken port should fail at once and
say why, before any of that."""

from __future__ import annotations

import errno
import socket

from credvault.domain.errors import ConfigError
from credvault.hostport import parse_host_port


def ensure_free(listen: str, variable: str) -> None:
    """Raises ConfigError when nothing could listen on `listen` (`host:port`; port 0 is always free)."""
    if listen.startswith(("unix:", "unix-abstract:")):
        return
    try:
        address = parse_host_port(listen)
        number = address.port
        family, kind, proto, _, sockaddr = socket.getaddrinfo(
            address.host or None, number, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (ValueError, OSError):
        raise ConfigError(f"{variable} must be host:port with a local address, not {listen!r}") from None
    if number == 0:
        return
    with socket.socket(family, kind, proto) as probe:
        # As gRPC does: a port whose old connections linger in TIME_WAIT is free; one with a listener
        # (with or without SO_REUSEPORT) is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(sockaddr)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"cannot listen on {listen} ({variable}): it is in use, perhaps by another credvault; "
                    f"stop it, or set {variable} to another port (port 0 picks a free one)"
                ) from None
            raise ConfigError(f"cannot listen on {listen} ({variable}): {error.strerror}") from None
