"""Replicas of ``naftiko serve`` behind a real nginx, as a platform would run them.

* :class:`Replica` — one ``naftiko serve`` process (``--any-port``, ``--log-format json``, its
  stderr kept in a file), with where each adapter listens (from ``--ready-file``).
* :class:`Nginx` — the Debian package's nginx in the foreground, round robin over the replicas'
  REST and MCP ports, keep-alive connections to them (as a production proxy has), a JSON access log
  naming the replica (``$upstream_addr``) and the request body (the JSON-RPC method). :meth:`route`
  rewrites the upstream lists and reloads gracefully, which is what Kubernetes' endpoints controller
  and an ingress do when a pod's readiness changes.
* :func:`echo_upstream` — the upstream every replica calls: ``/items/{id}`` and ``/slow/{ms}``.

The tests need the ``nginx`` binary: ``.ci/run`` installs it; elsewhere they skip saying so.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.servers import ServerThread, free_port, wait_for_port

NAFTIKO = str(Path(sys.executable).parent / "naftiko")
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
)

CAPABILITY = """
naftiko: 1.0.0-alpha2
info: {{label: Replicas, description: interchangeable replicas behind a load balancer}}
{binds}capability:
  consumes:
    - type: http
      namespace: echo
      baseUri: {upstream}
      resources:
        - name: items
          path: /items/{{id}}
          operations: [{{name: get-item, method: GET}}]
        - name: slow
          path: /slow/{{ms}}
          operations: [{{name: wait, method: GET}}]
  exposes:
    - type: rest
      namespace: echo-rest
      port: 8080
{rest_auth}      resources:
        - path: /items/{{id}}
          operations:
            - {{method: GET, name: get-item, call: echo.get-item, with: {{id: echo-rest.id}}}}
        - path: /slow/{{ms}}
          operations:
            - {{method: GET, name: wait, call: echo.wait, with: {{ms: echo-rest.ms}}}}
    - type: mcp
      namespace: echo-mcp
      port: 9090
{mcp_auth}      tools:
        - {{name: get-item, description: Get an item, call: echo.get-item, with: {{id: tools.id}}}}
        - {{name: wait, description: Wait a while upstream, call: echo.wait, with: {{ms: tools.ms}}}}
    - type: control
      port: 9091
      management: {{health: true, info: true}}
"""


def require_nginx() -> str:
    """The nginx binary; in CI its absence is a failure (``.ci/run`` installs it), else a skip."""
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed: .ci/run installs the Debian package")
        pytest.skip("nginx is not installed (apt-get install -y nginx)")
    return NGINX


def echo_upstream() -> ServerThread:
    """``GET /items/{id}`` → ``{"id", "name"}``; ``GET /slow/{ms}`` answers after ``ms`` ms."""

    async def item(request: Request) -> JSONResponse:
        return JSONResponse({"id": request.path_params["id"], "name": "widget"})

    async def slow(request: Request) -> JSONResponse:
        ms = int(request.path_params["ms"])
        await asyncio.sleep(ms / 1000)
        return JSONResponse({"waited_ms": ms})

    return ServerThread(
        Starlette(routes=[Route("/items/{id}", item), Route("/slow/{ms}", slow)]), http="httptools"
    )


def write_capability(
    directory: Path, upstream: str, *, rest_auth: str = "", mcp_auth: str = "", secrets: Sequence[str] = ()
) -> Path:
    """The capability every replica serves; ``*_auth`` are ``authentication:`` lines (6-space indent)
    and ``secrets`` the environment variables they use (declared as binds)."""
    binds = ""
    if secrets:
        keys = ", ".join(f"{name}: {name}" for name in secrets)
        binds = f"binds:\n  - namespace: env\n    keys: {{{keys}}}\n"
    path = directory / "replicas.yaml"
    path.write_text(
        CAPABILITY.format(upstream=upstream, rest_auth=rest_auth, mcp_auth=mcp_auth, binds=binds),
        encoding="utf-8",
    )
    return path


@dataclass
class Replica:
    """One ``naftiko serve`` process; ``ports`` by adapter type once :meth:`wait_ready` returned.

    ``capability``: the file (or files) it serves.
    """

    name: str
    capability: Path | Sequence[Path]
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    args: Sequence[str] = ()
    process: subprocess.Popen[bytes] | None = None
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def ready_file(self) -> Path:
        return self.workdir / f"{self.name}.ready.json"

    @property
    def log_file(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def start(self) -> Replica:
        self.ready_file.unlink(missing_ok=True)
        paths = [self.capability] if isinstance(self.capability, Path) else list(self.capability)
        command = [NAFTIKO, "serve", *map(str, paths), "--any-port", "--ready-file", str(self.ready_file)]
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(
                [*command, "--log-format", "json", *self.args],
                stdout=subprocess.DEVNULL,
                stderr=log,
                env={**os.environ, **self.env},
            )
        return self

    def wait_ready(self, timeout: float = 30.0) -> Replica:
        """Until the process wrote its ready file and ``/health/ready`` answers 200."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while not self.ready_file.exists():
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited {self.process.returncode}: {self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not start: {self.log()}")
            time.sleep(0.02)
        listeners = json.loads(self.ready_file.read_text())["listeners"]
        self.ports = {item["type"]: item["port"] for item in listeners}
        while self.readiness() != 200:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} never became ready")
            time.sleep(0.02)
        return self

    def readiness(self) -> int | None:
        """``/health/ready``'s status, or None when the control port refuses connections."""
        try:
            return httpx.get(f"http://127.0.0.1:{self.ports['control']}/health/ready", timeout=2).status_code
        except httpx.TransportError:
            return None

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 30.0) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace") if self.log_file.exists() else ""

    def access_lines(self) -> list[dict[str, Any]]:
        """The JSON access lines this replica wrote (one per request it answered)."""
        lines = []
        for line in self.log().splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                if "status" in record and "path" in record:
                    lines.append(record)
        return lines

    def address(self, kind: str) -> str:
        return f"127.0.0.1:{self.ports[kind]}"


class Nginx:
    """nginx in the foreground, round robin over the replicas' REST and MCP adapters."""

    def __init__(self, workdir: Path) -> None:
        self.binary = require_nginx()
        self.prefix = workdir / "nginx"
        (self.prefix / "tmp").mkdir(parents=True, exist_ok=True)
        self.rest_port, self.mcp_port, self.admin_port = free_port(), free_port(), free_port()
        self.generation = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    @property
    def mcp_url(self) -> str:
        return f"http://127.0.0.1:{self.mcp_port}/mcp"

    @property
    def access_log(self) -> Path:
        return self.prefix / "access.log"

    def start(self, replicas: Iterable[Replica]) -> Nginx:
        self._write(list(replicas))
        self.process = subprocess.Popen(
            [self.binary, "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=(self.prefix / "stderr.log").open("wb"),
        )
        for port in (self.rest_port, self.mcp_port, self.admin_port):
            wait_for_port("127.0.0.1", port, timeout=15)
        return self

    def route(self, replicas: Iterable[Replica]) -> None:
        """Send traffic to ``replicas`` from now on: rewrite, reload (graceful), wait until applied."""
        assert self.process is not None
        self._write(list(replicas))
        self.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 15
        while self._applied() != self.generation:
            if time.monotonic() > deadline:
                raise AssertionError(f"nginx did not reload: {self.errors()}")
            time.sleep(0.01)

    def _applied(self) -> int | None:
        try:
            answer = httpx.get(f"http://127.0.0.1:{self.admin_port}/generation", timeout=2)
            return int(answer.text)
        except (httpx.TransportError, ValueError):
            return None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def errors(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def requests(self) -> list[dict[str, Any]]:
        """The access log: ``msec`` (epoch), ``upstream`` (replica address), ``status``, ``uri``, ``body``."""
        if not self.access_log.exists():
            return []
        return [json.loads(line) for line in self.access_log.read_text().splitlines() if line.strip()]

    def logged(self, marker: str, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The ``count`` logged requests whose URI or body holds ``marker`` (nginx writes a line just
        after the answer went out, so the last ones may take a moment)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [line for line in self.requests() if marker in line["uri"] or marker in line["body"]]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.02)

    def _write(self, replicas: list[Replica]) -> None:
        self.generation += 1
        tmp = self.prefix / "tmp"
        rest = "\n".join(f"    server {r.address('rest')};" for r in replicas)
        mcp = "\n".join(f"    server {r.address('mcp')};" for r in replicas)
        user = "user root;" if os.geteuid() == 0 else ""
        (self.prefix / "nginx.conf").write_text(
            f"""
{user}
worker_processes 1;
pid {self.prefix}/nginx.pid;
error_log {self.prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  log_format replicas escape=json '{{"msec":"$msec","upstream":"$upstream_addr","status":"$status",'
      '"upstream_status":"$upstream_status","uri":"$uri","body":"$request_body"}}';
  access_log {self.prefix}/access.log replicas;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  upstream rest {{
{rest}
    keepalive 32;
  }}
  upstream mcp {{
{mcp}
    keepalive 32;
  }}
  # No keep-alive towards the clients: a reload makes the old worker close its idle client
  # connections, and a client's next request on one would be lost in nginx itself (the very race
  # the replicas must not have). Towards the replicas, connections are kept alive: that hop is
  # the one under test. (ingress-nginx avoids reloads altogether with dynamic upstreams.)
  keepalive_timeout 0;
  server {{
    listen 127.0.0.1:{self.rest_port};
    location / {{
      proxy_pass http://rest;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;  # the client's Host, as ingress-nginx passes it
    }}
  }}
  server {{
    listen 127.0.0.1:{self.mcp_port};
    location / {{
      proxy_pass http://mcp;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;  # the client's Host, as ingress-nginx passes it
      proxy_buffering off;
    }}
  }}
  server {{
    listen 127.0.0.1:{self.admin_port};
    access_log off;
    location = /generation {{ return 200 "{self.generation}"; }}
  }}
}}
""",
            encoding="utf-8",
        )
