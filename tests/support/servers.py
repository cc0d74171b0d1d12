"""Run ASGI apps on real loopback sockets from tests.

Tests in this project talk to servers over real TCP: the runtime's REST and MCP servers, the
recording upstream, the Label Studio stand-in. :class:`ServerThread` runs any ASGI app with uvicorn
in a background thread with its own event loop, so the same server works from a plain test, from an
``async`` test (whose loop it does not share) and from a subprocess client.

Ports: with ``port=None`` the thread binds port 0 itself and keeps the bound socket, so there is no
window between "find a free port" and "listen on it" for another process to steal it. The port is
then kept across :meth:`ServerThread.stop` / :meth:`ServerThread.start`, which is how a test takes
an upstream down and brings it back on the same address.

Example::

    with ServerThread(app) as server:
        httpx.get(server.url + "/health")
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from types import TracebackType
from typing import Any, Self

import uvicorn

LOOPBACK = "127.0.0.1"

log = logging.getLogger(__name__)


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that was free a moment ago on ``host``.

    Prefer ``ServerThread(app)`` without a port, which keeps its socket bound; use this only to
    hand a port to something that binds it itself (a subprocess, a capability document).
    """
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_open(host: str, port: int, timeout: float = 0.2) -> bool:
    """Whether something accepts TCP connections on ``host:port`` right now."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    """Block until ``host:port`` accepts a TCP connection; ``TimeoutError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        if port_is_open(host, port, timeout=min(0.5, max(timeout, 0.01))):
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"nothing accepted connections on {host}:{port} within {timeout:g} s")
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def wait_for_port_closed(host: str, port: int, timeout: float = 10.0) -> None:
    """Block until ``host:port`` refuses connections; ``TimeoutError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while port_is_open(host, port):
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{host}:{port} still accepts connections after {timeout:g} s")
        time.sleep(0.02)


class ServerThread:
    """An ASGI app served by uvicorn in a daemon thread, on a real loopback socket.

    ``start()`` returns once the port accepts connections (or raises what went wrong);
    ``stop()`` asks uvicorn to shut down gracefully (in-flight requests get
    ``graceful_timeout`` seconds) and joins the thread. Both are idempotent, and a stopped server
    can be started again on the same port. Use as a context manager to never leak a server.

    ``uvicorn_options`` go to :class:`uvicorn.Config` (for example ``lifespan="on"``).
    """

    def __init__(
        self,
        app: Any,
        host: str = LOOPBACK,
        port: int | None = None,
        *,
        startup_timeout: float = 10.0,
        graceful_timeout: float = 2.0,
        log_level: str = "warning",
        **uvicorn_options: Any,
    ) -> None:
        self.app = app
        self.host = host
        self._port = port
        self.startup_timeout = startup_timeout
        self.graceful_timeout = graceful_timeout
        self.log_level = log_level
        self.uvicorn_options = uvicorn_options
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()

    # -- addresses --------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The listening port (known once ``start()`` has bound it, and kept across restarts)."""
        if self._port is None:
            raise RuntimeError("the port is chosen when the server starts; call start() first")
        return self._port

    @property
    def url(self) -> str:
        """``http://host:port`` with no trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The server's event loop (to schedule work on it with ``run_coroutine_threadsafe``)."""
        if self._loop is None or not self.running:
            raise RuntimeError("the server is not running")
        return self._loop

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind, serve in a background thread, and return once connections are accepted."""
        with self._lock:
            if self.running:
                return self
            sock = self._bind()
            self._port = int(sock.getsockname()[1])
            options: dict[str, Any] = {
                "log_config": None,  # never reconfigure the test process's logging
                "log_level": self.log_level,
                "access_log": False,
                "lifespan": "auto",
                "http": "h11",  # the pure-Python parser: same raw_path behaviour everywhere
                "ws": "none",
                "timeout_graceful_shutdown": self.graceful_timeout,
            }
            options.update(self.uvicorn_options)
            config = uvicorn.Config(self.app, **options)
            server = uvicorn.Server(config)
            self._server, self._error = server, None
            thread = threading.Thread(
                target=self._serve,
                args=(server, sock),
                name=f"uvicorn-{self.host}:{self._port}",
                daemon=True,
            )
            self._thread = thread
            thread.start()
            deadline = time.monotonic() + self.startup_timeout
            while not server.started:
                if not thread.is_alive() or time.monotonic() >= deadline:
                    break
                time.sleep(0.005)
            if not server.started:
                self._abort(thread, server, sock)
                if self._error is not None:
                    raise RuntimeError(
                        f"server on {self.url} failed to start: {self._error!r}"
                    ) from self._error
                raise TimeoutError(f"server on {self.url} did not start within {self.startup_timeout:g} s")
        wait_for_port(self.host, self.port, timeout=self.startup_timeout)
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Shut down gracefully, then force; returns when the port is released. Idempotent."""
        with self._lock:
            server, thread = self._server, self._thread
            if server is None or thread is None:
                return
            server.should_exit = True
            if thread is threading.current_thread():
                return  # called from the app itself: the loop winds down after this request
            limit = (self.graceful_timeout + 5.0) if timeout is None else timeout
            thread.join(limit)
            if thread.is_alive():
                server.force_exit = True
                thread.join(5.0)
            if thread.is_alive():  # pragma: no cover - a wedged app; nothing more we can do
                log.warning("server thread %s did not stop", thread.name)
            self._server = self._thread = self._loop = None

    def restart(self) -> Self:
        """Stop and start again on the same port."""
        self.stop()
        return self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._port is not None else f"{self.host}:?"
        return f"<ServerThread {where} {'running' if self.running else 'stopped'}>"

    # -- internals --------------------------------------------------------------------------------

    def _bind(self) -> socket.socket:
        # The protocol number matters: without it asyncio does not set TCP_NODELAY on accepted
        # connections, and every keep-alive request waits ~40 ms for a delayed ACK.
        sock = socket.socket(_family(self.host), socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            # SO_REUSEADDR lets a restarted server take its port back while old connections sit
            # in TIME_WAIT; it does not let two live servers share a port on Linux.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._port or 0))
            sock.set_inheritable(True)
        except OSError:
            sock.close()
            raise
        return sock

    def _serve(self, server: uvicorn.Server, sock: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(server.serve(sockets=[sock]))
        except BaseException as exc:  # uvicorn reports startup failure with SystemExit
            self._error = exc
        finally:
            with contextlib.suppress(Exception):
                _cancel_pending(loop)
            loop.close()
            sock.close()

    def _abort(self, thread: threading.Thread, server: uvicorn.Server, sock: socket.socket) -> None:
        server.should_exit = server.force_exit = True
        thread.join(5.0)
        sock.close()
        self._server = self._thread = self._loop = None


def _cancel_pending(loop: asyncio.AbstractEventLoop) -> None:
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
