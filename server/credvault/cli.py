"""The `credvault` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from credvault import __version__, sandbox
from credvault.config import Settings, from_env
from credvault.domain.errors import ConfigError
from credvault.edge.transport import check_exposure
from credvault.healthcheck import check
from credvault.logs import configure_logging
from credvault.port import ensure_free
from credvault.settings_help import settings_help
from credvault.vault.policy import policy_text

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="credvault", description=__doc__)
    parser.add_argument("--version", action="version", version=f"credvault {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "serve",
        help="run the gRPC server (uses VAULT_ADDR, or an embedded OpenBao when it is not set)",
        epilog=settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands.add_parser(
        "sandbox",
        help="try credvault offline: serve with a throwaway embedded OpenBao and a local stand-in for "
        "JumpCloud's API (the README's first session)",
        epilog=settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands.add_parser("vault-policy", help="print the least-privilege Vault policy credvault needs")
    commands.add_parser(
        "healthcheck",
        help="exit 0 when the server at CREDVAULT_LISTEN reports SERVING (container health checks)",
    )
    args = parser.parse_args(argv)
    try:
        settings = from_env()
        if args.command == "vault-policy":
            print(policy_text(settings.vault.mount, settings.vault.prefix), end="")
            return 0
        if args.command == "healthcheck":
            return check(settings.listen, settings.security)
        configure_logging(settings.log_level)
        ensure_free(settings.listen, "CREDVAULT_LISTEN")
        if settings.metrics_listen:
            ensure_free(settings.metrics_listen, "CREDVAULT_METRICS_LISTEN")
        if args.command == "sandbox":
            return sandbox.run(_serve, _say)
        return _serve(settings)
    except ConfigError as error:
        print(f"credvault: {error.message}", file=sys.stderr)
        return 2


def _serve(settings: Settings) -> int:
    # Imported here so that `credvault healthcheck`, run every few seconds in a container, starts fast.
    from credvault.server import serve
    from credvault.undumpable import make_undumpable
    from credvault.vault.embedded import EmbeddedOpenBao
    from credvault.vault.unseal_key import default_key_file
    from credvault.workers import run_workers

    warning = check_exposure(settings)
    if warning:
        log.warning(warning)
        _say(f"WARNING: {warning}")
    make_undumpable()
    key_file = settings.unseal_key_file or default_key_file(settings.data_dir)
    embedded = None if settings.vault.addr else EmbeddedOpenBao(settings.data_dir, settings.vault, key_file)
    vault = settings.vault
    try:
        if embedded is not None:
            vault = embedded.start()
            _say(f"Vault: embedded OpenBao at {vault.addr}, data in {settings.data_dir}")
        else:
            _say(f"Vault: {vault.addr}")
        if settings.workers > 1:
            return run_workers(settings, vault, _announce)
        asyncio.run(serve(settings, vault, _announce))
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


def _announce(line: str) -> None:
    _say(line)
    if line.startswith("credvault listening on "):
        address = line.split(" ")[3]
        flags = "-cacert <CA file>" if line.endswith("(TLS)") else "-plaintext"
        _say(f"try: grpcurl {flags} {address} credvault.v1.CredentialVault/ListProviders")


def _say(line: str) -> None:
    print(line, flush=True)
