# syntax=docker/dockerfile:1
# naftiko-runtime: `naftiko serve` in a container (see README, "Deploying").
#
#   docker build -t naftiko-runtime .
#   docker run --read-only --tmpfs /tmp -p 8080:8080 -p 9090:9090 -p 9091:9091 \
#     -v "$PWD/capabilities:/etc/naftiko/capabilities:ro" -e LABEL_STUDIO_API_KEY naftiko-runtime
#
# Capabilities are read from /etc/naftiko/capabilities (every *.yaml / *.yml there); every `serve`
# flag can be set as a NAFTIKO_* variable. The final stage holds the virtual environment and
# nothing to build with; it runs as an unprivileged user and needs no writable path but /tmp.

ARG PYTHON_IMAGE=python:3.12-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/naftiko
COPY pyproject.toml README.md ./
COPY naftiko_runtime ./naftiko_runtime
# Every dependency ships wheels for linux amd64 and arm64; compile the bytecode now, since the
# running container cannot write it (read-only root filesystem).
RUN /opt/naftiko/bin/pip install . \
    && /opt/naftiko/bin/pip uninstall --yes pip \
    && /opt/naftiko/bin/python -m compileall -q /opt/naftiko/lib
COPY deploy/healthcheck.py /opt/naftiko/healthcheck.py

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="naftiko-runtime" \
      org.opencontainers.image.description="Serves Naftiko capabilities: REST, MCP, skill and control adapters" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 naftiko \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin naftiko \
    && mkdir -p /etc/naftiko/capabilities
COPY --from=build /opt/naftiko /opt/naftiko
ENV PATH=/opt/naftiko/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    NAFTIKO_HOST=0.0.0.0 \
    NAFTIKO_LOG_FORMAT=json \
    NAFTIKO_READY_FILE=/tmp/naftiko-ready.json
USER 10001:10001
WORKDIR /tmp
# The seed capability's ports; a capability declares its own (`port:` of each adapter).
EXPOSE 8080 9090 9091
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "/opt/naftiko/healthcheck.py"]
ENTRYPOINT ["naftiko"]
CMD ["serve", "/etc/naftiko/capabilities"]
