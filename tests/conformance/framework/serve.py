"""``naftiko serve`` as a black box: subprocesses on OS-chosen ports, found through ``--ready-file``.

A :class:`ServeGroup` starts every capability of a test module at once (the processes boot in
parallel), then waits for each one's ready-file. A capability that fails to start fails only the
tests that use it, with the server's output in the message::

    group = ServeGroup(tmp_dir)
    group.add("step2", tutorial("step-2-shipyard-wiring.yml"), base_uris=yard.base_uris)
    group.start()
    mcp_url = group["step2"].url("shipyard-tools")      # http://127.0.0.1:PORT/mcp
    ...
    group.stop()

:func:`serve_once` runs ``naftiko serve`` on a document that must not start (an invalid one) and
returns its exit code and output; :class:`StdioServer` is ``naftiko serve --stdio FILE`` with its
stdin and stdout in the test's hands.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from naftiko_runtime.spec import check

from .paths import REPO

LOOPBACK = "127.0.0.1"
START_TIMEOUT = 90.0  # a group starts ~20 processes at once; a busy 2-core machine needs the margin


def naftiko_argv(*args: str) -> list[str]:
    """``naftiko ARGS`` with the console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("naftiko")
    if script.exists():
        return [str(script), *args]
    bootstrap = "import sys; from naftiko_runtime.cli import main; sys.exit(main())"
    return [sys.executable, "-c", bootstrap, *args]


def serve_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A small, explicit environment: what a capability's env binds see is what the test gives."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(REPO),
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra or {})
    return env


def base_uri_args(base_uris: Mapping[str, str], document: Path) -> list[str]:
    """``--base-uri`` for each namespace the document consumes (naftiko refuses any other)."""
    loaded = check(document).document
    consumed = {c.namespace for c in loaded.all_consumes} if loaded is not None else set(base_uris)
    args: list[str] = []
    for namespace, url in base_uris.items():
        if namespace in consumed:
            args += ["--base-uri", f"{namespace}={url}"]
    return args


@dataclass(frozen=True)
class Listener:
    """One adapter as the ready-file reports it."""

    type: str
    namespace: str
    host: str
    port: int
    url: str

    @property
    def base(self) -> str:
        """``http://host:port`` (the REST adapter's root; the MCP and skill URLs add a path)."""
        return f"http://{self.host}:{self.port}"


class Serve:
    """``naftiko serve DOCUMENT --host 127.0.0.1 --any-port --ready-file ...`` in a subprocess."""

    def __init__(
        self,
        document: Path,
        workdir: Path,
        *,
        base_uris: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.document = Path(document)
        self.workdir = workdir
        self.base_uris = dict(base_uris or {})
        self.env = dict(env or {})
        self.extra_args = list(extra_args)
        self.ready_file = workdir / "ready.json"
        self.log_path = workdir / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.listeners: list[Listener] = []
        self.skipped: list[dict[str, Any]] = []
        self.failure: str | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    def launch(self) -> None:
        """Start the process; :meth:`wait_ready` waits for it."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ready_file.unlink(missing_ok=True)
        argv = naftiko_argv(
            "serve",
            str(self.document),
            "--host",
            LOOPBACK,
            "--any-port",
            "--ready-file",
            str(self.ready_file),
            "--log-level",
            "warning",
            "--shutdown-timeout",
            "1",
            *base_uri_args(self.base_uris, self.document),
            *self.extra_args,
        )
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=serve_env(self.env)
            )

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Block until the ready-file appears; on failure keep the reason in :attr:`failure`."""
        assert self.proc is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while not self.ready_file.exists():
            if self.proc.poll() is not None:
                self.failure = f"naftiko serve exited with {self.proc.returncode}:\n{self.log()}"
                return
            if time.monotonic() >= deadline:
                self.failure = f"naftiko serve was not ready within {timeout:g} s:\n{self.log()}"
                self.stop()
                return
            time.sleep(0.02)
        document = json.loads(self.ready_file.read_text(encoding="utf-8"))
        self.listeners = [
            Listener(item["type"], item["namespace"], item["host"], int(item["port"]), item["url"])
            for item in document["listeners"]
        ]
        self.skipped = list(document.get("skipped", []))

    def start(self, timeout: float = START_TIMEOUT) -> Self:
        self.launch()
        self.wait_ready(timeout)
        self.check()
        return self

    def check(self) -> None:
        """Raise with the server's output if it did not start."""
        if self.failure is not None:
            raise RuntimeError(f"{self.document.name}: {self.failure}")

    def signal_stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)

    def stop(self, timeout: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:  # pragma: no cover - a wedged server
            proc.kill()
            proc.wait()

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    # -- addresses --------------------------------------------------------------------------------

    def listener(self, namespace: str | None = None, *, type: str | None = None) -> Listener:
        self.check()
        for item in self.listeners:
            if (namespace is None or item.namespace == namespace) and (type is None or item.type == type):
                return item
        raise LookupError(
            f"{self.document.name}: no listener {namespace or ''} {type or ''} in {self.listeners}"
        )

    def url(self, namespace: str | None = None, *, type: str | None = None) -> str:
        """The adapter's URL from the ready-file (``.../mcp`` for MCP, ``.../skills`` for skills)."""
        return self.listener(namespace, type=type).url

    def base(self, namespace: str | None = None, *, type: str | None = None) -> str:
        """``http://127.0.0.1:PORT`` of the adapter."""
        return self.listener(namespace, type=type).base


class ServeGroup:
    """Several ``naftiko serve`` processes started together; each failure stays with its server."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.servers: dict[str, Serve] = {}

    def add(
        self,
        key: str,
        document: Path,
        *,
        base_uris: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        extra_args: Sequence[str] = (),
    ) -> Serve:
        serve = Serve(document, self.workdir / key, base_uris=base_uris, env=env, extra_args=extra_args)
        self.servers[key] = serve
        return serve

    def start(self, timeout: float = START_TIMEOUT) -> Self:
        for serve in self.servers.values():
            serve.launch()
        for serve in self.servers.values():
            serve.wait_ready(timeout)
        return self

    def stop(self) -> None:
        for serve in self.servers.values():
            serve.signal_stop()
        for serve in self.servers.values():
            serve.stop()

    def __getitem__(self, key: str) -> Serve:
        serve = self.servers[key]
        serve.check()
        return serve


def serve_once(
    document: Path,
    workdir: Path,
    *,
    base_uris: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 20.0,
) -> tuple[int | None, str]:
    """Run ``naftiko serve`` on a document expected to be refused: ``(exit code, output)``.

    If the server starts after all, it is stopped and the exit code is ``None``.
    """
    serve = Serve(document, workdir, base_uris=base_uris, env=env)
    serve.launch()
    serve.wait_ready(timeout)
    proc = serve.proc
    if serve.failure is None:
        serve.stop()
        return None, serve.log()
    assert proc is not None
    return proc.returncode, serve.log()


class StdioServer:
    """``naftiko serve --stdio DOCUMENT``: JSON lines in on stdin, JSON lines out on stdout."""

    def __init__(
        self,
        document: Path,
        *,
        base_uris: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.argv = stdio_argv(document, base_uris or {})
        self.env = serve_env(env)
        self.proc: subprocess.Popen[bytes] | None = None
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self._stderr: list[bytes] = []

    def __enter__(self) -> Self:
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env
        )
        threading.Thread(target=self._pump, args=(self.proc.stdout, self._lines), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.stdin is not None and not proc.stdin.closed:
            proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover - stdin EOF should end it
            proc.kill()
            proc.wait()

    @staticmethod
    def _pump(stream: Any, lines: queue.Queue[bytes | None]) -> None:
        for line in iter(stream.readline, b""):
            lines.put(line)
        lines.put(None)

    def _drain(self, stream: Any) -> None:
        for line in iter(stream.readline, b""):
            self._stderr.append(line)

    @property
    def stderr(self) -> str:
        return b"".join(self._stderr).decode("utf-8", errors="replace")

    def send(self, message: Mapping[str, Any] | str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        text = message if isinstance(message, str) else json.dumps(message)
        self.proc.stdin.write(text.encode("utf-8") + b"\n")
        self.proc.stdin.flush()

    def close_stdin(self) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.close()

    def read_lines(self, timeout: float = 10.0) -> list[bytes]:
        """Every stdout line until the process exits (after :meth:`close_stdin`)."""
        lines: list[bytes] = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"stdout still open after {timeout:g} s; got {lines!r}\n{self.stderr}")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                return lines
            lines.append(line)


def stdio_argv(document: Path, base_uris: Mapping[str, str]) -> list[str]:
    """The command line a desktop MCP client is configured with."""
    return naftiko_argv(
        "serve", "--stdio", str(document), "--log-level", "warning", *base_uri_args(base_uris, document)
    )
