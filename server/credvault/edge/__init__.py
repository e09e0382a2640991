"""The gRPC edge: turns wire messages into domain calls and domain errors into gRPC statuses, and guards
the door (caller authentication, access policy, request limits, audit, TLS)."""
