# credvault's least-privilege Vault/OpenBao policy: its own folder of one KV v2 mount, nothing else.
# `credvault vault-policy` prints this with the configured mount and prefix filled in.
# Token self-lookup and renewal come from Vault's built-in `default` policy.

# Read, create and replace (check-and-set) connection entries, and the service's own documents beside
# them (`_events`, `_schedule`, `_connect-sessions`: names no tenant id can take).
path "{mount}/data/{prefix}/*" {
  capabilities = ["create", "read", "update"]
}

# List a tenant's connections, check that one exists, and delete one with every version.
path "{mount}/metadata/{prefix}/*" {
  capabilities = ["read", "list", "delete"]
}
