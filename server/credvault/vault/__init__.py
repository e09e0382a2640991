"""The Vault side: connections stored in Vault KV v2 (the only shared state), the session that logs in,
finds the active node and retries, the embedded OpenBao for local use, and credvault's Vault policy."""
