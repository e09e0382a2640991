"""The domain: the use cases behind the RPCs (create, read, update, verify, delete connections, hand
out auth headers), their records and errors. Knows nothing of gRPC or of how Vault is spoken to."""
