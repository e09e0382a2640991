"""The one reader of `host:port` settings (`CREDVAULT_LISTEN`, `CREDVAULT_METRICS_LISTEN`): `host:port`,
`[v6]:port`, or `:port` for every address. The standard library's URL splitter does the parsing, so
brackets, IPv6 and bad ports are handled one way everywhere."""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlsplit


@dataclass(frozen=True)
class HostPort:
    host: str
    """Lower-case, IPv6 without brackets; '' for every address."""
    port: int

    def with_port(self, port: int) -> HostPort:
        return replace(self, port=port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_host_port(text: str) -> HostPort:
    """Raises ValueError when `text` is not `host:port`, `[v6]:port` or `:port`."""
    parts = urlsplit(f"//{text}")
    port = parts.port  # ValueError unless digits in 0-65535
    if port is None or parts.netloc != text or "@" in text:  # no port; a path, query or user part
        raise ValueError(f"not host:port: {text!r}")
    return HostPort(parts.hostname or "", port)
