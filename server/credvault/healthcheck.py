"""`credvault healthcheck`: asks the server at `CREDVAULT_LISTEN` for its gRPC health, for container
health checks (the image needs no grpcurl or grpc_health_probe). Exit status 0 means SERVING.

With TLS on it speaks TLS with the server's own settings: it trusts exactly the certificate the server
is configured to present (CREDVAULT_TLS_CERT) and checks it under that certificate's own name, so
reaching the server at a loopback address needs no extra CA or name. With mTLS on it presents
CREDVAULT_HEALTHCHECK_CERT/KEY, or else the server's own certificate and key."""

from __future__ import annotations

import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from credvault.config import SecuritySettings
from credvault.domain.errors import ConfigError
from credvault.hostport import HostPort, parse_host_port

WILDCARDS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}
"""Listen-on-every-address hosts, and the loopback address to reach them at."""


def local_address(listen: str) -> str:
    """The address to reach a server listening on `listen` from the same machine."""
    try:
        address = parse_host_port(listen)
    except ValueError:
        address = HostPort("", 0)
    if not address.port:
        raise ConfigError(f"healthcheck needs the server's port in CREDVAULT_LISTEN, not {listen!r}")
    return str(HostPort(WILDCARDS.get(address.host, address.host), address.port))


def check(
    listen: str, security: SecuritySettings | None = None, service: str = "", timeout: float = 5.0
) -> int:
    """Prints the health status of `service` ('' for the whole server); returns the exit status."""
    address = local_address(listen)
    with _channel(address, security or SecuritySettings()) as channel:
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


def _channel(address: str, security: SecuritySettings) -> grpc.Channel:
    if security.tls_cert is None or security.tls_key is None:
        return grpc.insecure_channel(address)
    chain = _read(security.tls_cert, "CREDVAULT_TLS_CERT")
    key = cert = None
    if security.tls_client_ca is not None:
        cert_path = security.healthcheck_cert or security.tls_cert
        key_path = security.healthcheck_key or security.tls_key
        cert = _read(
            cert_path, "CREDVAULT_HEALTHCHECK_CERT" if security.healthcheck_cert else "CREDVAULT_TLS_CERT"
        )
        key = _read(
            key_path, "CREDVAULT_HEALTHCHECK_KEY" if security.healthcheck_key else "CREDVAULT_TLS_KEY"
        )
    credentials = grpc.ssl_channel_credentials(
        root_certificates=chain, private_key=key, certificate_chain=cert
    )
    return grpc.secure_channel(
        address, credentials, options=[("grpc.ssl_target_name_override", _name(chain))]
    )


def _name(chain: bytes) -> str:
    """A name the server's certificate is valid for: its first DNS name, else its common name."""
    from cryptography import x509  # imported here: only TLS health checks need it

    try:
        leaf = x509.load_pem_x509_certificates(chain)[0]
    except ValueError:
        raise ConfigError("CREDVAULT_TLS_CERT holds no PEM certificate") from None
    try:
        extension = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = extension.value.get_values_for_type(x509.DNSName)
        addresses = [str(a) for a in extension.value.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        names, addresses = [], []
    common = [str(a.value) for a in leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
    found = names or addresses or common
    if not found:
        raise ConfigError("CREDVAULT_TLS_CERT names no host (no DNS or IP subject alternative name, no CN)")
    # A wildcard name is valid for any one label in its place.
    return "healthcheck" + found[0][1:] if found[0].startswith("*.") else found[0]


def _read(path: Path, variable: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{variable} ({path}) cannot be read: {exc.strerror}") from None
