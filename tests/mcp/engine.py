"""The real engine behind the MCP tests: the seed capability, built and served as ``naftiko serve`` does.

Three ways to run the seed's MCP adapter, from the closest to the test to the one a user runs:

* :func:`serve_seed` — ``Runtime.build`` + ``runtime.asgi_app(namespace)`` in a
  :class:`ServerThread` (in process, a loopback port); the runtime's upstream pool is closed on the
  server's own loop.
* :class:`NaftikoServe` — ``naftiko serve FILE --base-uri NS=URL`` as a subprocess, on a temporary
  copy of the document whose ``port:`` values are replaced by free ports.
* :func:`stdio_command` — the command line of ``naftiko serve --stdio FILE`` that a desktop client
  (here the SDK's stdio client) launches.

Every one of them reads ``LABEL_STUDIO_API_KEY`` (``Token <token>``) from its environment through the
seed's bind, and sends the seed's requests to whichever upstream the test points it at.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from naftiko_runtime.consumes.transport import TransportSettings
from naftiko_runtime.exposes.mcp import McpCatalog, McpSecurity, build_mcp_app
from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.runtime.mcp import catalog
from naftiko_runtime.spec import load
from tests.support.servers import LOOPBACK, ServerThread, free_port, port_is_open

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "capabilities" / "label-studio-runs.yaml"
CONSUMED = "label-studio-subpackage-prompts-subpackage-prompts-runs"
MCP_NAMESPACE = CONSUMED + "-mcp"
SEED_INSTRUCTIONS = (
    "MCP adapter for API Reference — subpackage_prompts.subpackage_prompts/runs. One tool per consumed "
    "operation, routed inline through this capability's consumes block."
)
TOKEN = "standin-mcp-4b1e"  # what the Label Studio stand-in accepts
API_KEY = f"Token {TOKEN}"  # what the seed's bind reads from LABEL_STUDIO_API_KEY
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "naftiko-tests", "version": "1"},
    },
}
"""A JSON-RPC ``initialize`` request, for tests that speak plain HTTP to an MCP endpoint."""


def seed_runtime(
    upstream_url: str,
    api_key: str = API_KEY,
    document: Path = SEED,
    transport: TransportSettings | None = None,
) -> Runtime:
    """The seed as ``naftiko serve --base-uri NS=upstream_url`` builds it."""
    options = RuntimeOptions(
        base_uris={CONSUMED: upstream_url},
        environ={"LABEL_STUDIO_API_KEY": api_key},
        transport=transport or TransportSettings(),
    )
    return Runtime.build(load(str(document)), options)


def seed_catalog(runtime: Runtime) -> McpCatalog:
    """The catalog the runtime hands the MCP adapter for the seed's one ``type: mcp`` expose."""
    return catalog(runtime.mcp[0], runtime.context)


class EngineServer(ServerThread):
    """A :class:`ServerThread` serving one runtime's adapter; stopping it closes the runtime's pools
    on the server's loop (where they were opened)."""

    def __init__(self, runtime: Runtime, app: Any) -> None:
        super().__init__(app)
        self.runtime = runtime

    def stop(self, timeout: float | None = None) -> None:
        if self.running:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self.runtime.aclose(), self.loop).result(5)
        super().stop(timeout)


def serve_seed(
    upstream_url: str,
    security: McpSecurity | None = None,
    api_key: str = API_KEY,
    transport: TransportSettings | None = None,
) -> EngineServer:
    """The seed's MCP adapter on the real engine, not started (use it as a context manager).

    Without ``security`` the app is exactly ``runtime.asgi_app(namespace)``; with it, the same
    catalog behind the given inbound authentication (the seed declares none).
    """
    runtime = seed_runtime(upstream_url, api_key, transport=transport)
    if security is None:
        app = runtime.asgi_app(MCP_NAMESPACE)
    else:
        app = build_mcp_app(seed_catalog(runtime), security)
    return EngineServer(runtime, app)


# --- the command line ------------------------------------------------------------------------------


def naftiko_argv(*args: str) -> list[str]:
    """``naftiko ARGS``: the console script installed next to this interpreter."""
    script = Path(sys.executable).with_name("naftiko")
    if script.exists():
        return [str(script), *args]
    bootstrap = "import sys; from naftiko_runtime.cli import main; sys.exit(main())"
    return [sys.executable, "-c", bootstrap, *args]  # pragma: no cover - a venv without scripts


def cli_env(api_key: str = API_KEY, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A small, explicit environment for a ``naftiko`` subprocess."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(REPO),
        "LABEL_STUDIO_API_KEY": api_key,
    }
    env.update(extra or {})
    return env


def stdio_command(upstream_url: str, document: Path = SEED) -> list[str]:
    """``naftiko serve --stdio FILE --base-uri NS=URL``: what a desktop client is told to launch."""
    return naftiko_argv("serve", "--stdio", str(document), "--base-uri", f"{CONSUMED}={upstream_url}")


_PORT = re.compile(r"^(\s*port:\s*)\d+\s*$", re.MULTILINE)


def with_free_ports(document: Path, directory: Path) -> tuple[Path, list[int]]:
    """A copy of ``document`` in ``directory`` whose every ``port:`` is a free port, and those ports
    in document order. Relative references in the document are not rewritten (the seed has none)."""
    ports: list[int] = []

    def replace(match: re.Match[str]) -> str:
        ports.append(free_port())
        return f"{match.group(1)}{ports[-1]}"

    copy = directory / document.name
    copy.write_text(_PORT.sub(replace, document.read_text(encoding="utf-8")), encoding="utf-8")
    return copy, ports


class NaftikoServe:
    """``naftiko serve`` on a copy of ``document`` with free ports, as a subprocess.

    ``ports`` are the document's ports in order (the seed: REST, then MCP); ``start()`` returns
    once the port at index ``wait_port`` accepts connections (``None``: every port). Output goes to
    a temporary log file, shown when the server fails to start.
    """

    def __init__(
        self,
        document: Path,
        *,
        base_uris: Mapping[str, str],
        api_key: str = API_KEY,
        extra_args: Sequence[str] = (),
        wait_port: int | None = -1,
        max_open_files: int | None = None,
    ) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="naftiko-serve-")
        self.document, self.ports = with_free_ports(document, Path(self._tmp.name))
        self.base_uris = dict(base_uris)
        self.api_key = api_key
        self.extra_args = list(extra_args)
        self.wait_port = wait_port
        self.max_open_files = max_open_files  # the server's descriptor limit (RLIMIT_NOFILE), if set
        self.log_path = Path(self._tmp.name) / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, index: int = -1, path: str = "/mcp") -> str:
        return f"http://{LOOPBACK}:{self.ports[index]}{path}"

    def start(self) -> Self:
        argv = naftiko_argv("serve", str(self.document), *self.extra_args)
        for namespace, url in self.base_uris.items():
            argv += ["--base-uri", f"{namespace}={url}"]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=cli_env(self.api_key),
                cwd=REPO,
                preexec_fn=self._limit_open_files if self.max_open_files else None,
            )
        try:
            for port in self.ports if self.wait_port is None else [self.ports[self.wait_port]]:
                deadline = time.monotonic() + 20
                while not port_is_open(LOOPBACK, port):
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"nothing listens on port {port}")
                    time.sleep(0.02)
        except BaseException:
            self.stop()
            raise RuntimeError(f"naftiko serve did not start:\n{self.log()}") from None
        return self

    def _limit_open_files(self) -> None:  # runs in the child, before exec
        assert self.max_open_files is not None
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.max_open_files, hard))

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:  # pragma: no cover - a wedged server
                proc.kill()
                proc.wait()

    def close(self) -> None:
        self.stop()
        self._tmp.cleanup()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def serve_document(
    document: Path,
    *,
    base_uris: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> EngineServer:
    """The first MCP adapter of any capability document on the real engine, not started."""
    options = RuntimeOptions(base_uris=dict(base_uris or {}), environ=dict(environ or {}))
    runtime = Runtime.build(load(str(document)), options)
    return EngineServer(runtime, build_mcp_app(catalog(runtime.mcp[0], runtime.context)))
