"""credvault: a gRPC service that verifies third-party API credentials, keeps them in Vault and hands
authorised callers ready-made auth headers."""

from importlib.metadata import version

__version__ = version("credvault")
"""The installed distribution's version, so pyproject.toml is the one place it is written."""
