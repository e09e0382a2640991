"""`credvault healthcheck`: asks the server at `CREDVAULT_LISTEN` for its gRPC health, for container
health checks (the image needs no grpcurl or grpc_health_probe). Exit status 0 means SERVING."""

from __future__ import annotations

import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from credvault.domain.errors import ConfigError

WILDCARDS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "[::]": "[::1]"}
"""Listen-on-every-address hosts, and the loopback address to reach them at."""


def local_address(listen: str) -> str:
    """The address to reach a server listening on `listen` from the same machine."""
    host, _, port = listen.rpartition(":")
    if not port.isdigit() or int(port) == 0:
        raise ConfigError(f"healthcheck needs the server's port in CREDVAULT_LISTEN, not {listen!r}")
    return f"{WILDCARDS.get(host, host)}:{port}"


def check(listen: str, service: str = "", timeout: float = 5.0) -> int:
    """Prints the health status of `service` ('' for the whole server); returns the exit status."""
    address = local_address(listen)
    with grpc.insecure_channel(address) as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError as error:
            print(f"credvault at {address}: {error.code().name} ({error.details()})", file=sys.stderr)
            return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
    print(f"credvault at {address}: {status}")
    return 0 if answer.status == health_pb2.HealthCheckResponse.SERVING else 1
