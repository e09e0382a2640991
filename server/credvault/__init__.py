"""credvault: a gRPC service that verifies third-party API credentials, keeps them in Vault and hands
authorised callers ready-made auth headers."""

__version__ = "0.1.0"
