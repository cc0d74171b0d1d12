"""One pooled HTTP client per consumed namespace, on aiohttp.

Why aiohttp and not httpx, measured here through a minimal Starlette proxy at 16 connections
(``bench/transport.py``, 2026-11-29, busy 2-core machine, CPU time per proxied request): httpx's own
async pool 981 µs, httpx over an aiohttp transport 273 µs, aiohttp 128 µs, aiohttp with orjson 110 µs
(~9x httpx's throughput). The consumer sits on every request's path, so it must not be the
bottleneck. httpx stays the client of our tests and tools.

The client knows nothing of specs or adapters: it sends bytes, enforces connect/read timeouts and the
time left to the unit, retries idempotent requests on connection errors (never on timeouts, never
once a response started), and turns failures into :mod:`naftiko_runtime.errors` values.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from ..errors import BinaryTooLarge, UpstreamTimeout, UpstreamUnavailable, without_urls
from ..observability import tracing
from ..observability.context import upstream_ended, upstream_started

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True, slots=True)
class TransportSettings:
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    retries: int = 2
    retry_backoff: float = 0.05  # seconds; doubles each attempt
    pool_limit: int = 256  # open connections per consumed namespace
    keepalive: float = 30.0


@dataclass(slots=True)
class UpstreamResponse:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    elapsed_ms: float


class HttpClient:
    """A pooled client for one consumed namespace. Create it inside the event loop that uses it."""

    def __init__(self, namespace: str, settings: TransportSettings | None = None) -> None:
        self.namespace = namespace
        self.settings = settings or TransportSettings()
        self._session: aiohttp.ClientSession | None = None
        # Credentials state shared by the namespace's operations (token cache, digest challenge),
        # filled by :mod:`.operation`; typed loosely so transport need not import auth.
        self.authenticators: dict[str, Any] = {}
        self._watchdog = _Watchdog()
        self._urls: dict[str, URL] = {}

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.settings.pool_limit,
                limit_per_host=0,
                keepalive_timeout=self.settings.keepalive,
                ttl_dns_cache=300,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    sock_connect=self.settings.connect_timeout,
                    sock_read=self.settings.read_timeout,
                ),
                auto_decompress=True,
                cookie_jar=aiohttp.DummyCookieJar(),  # upstream cookies must not leak between callers
                skip_auto_headers=("User-Agent",),
            )
            # aiohttp silently resends an idempotent request once when a connection drops; our own
            # loop below does that, counted by ``retries``, so switch the hidden one off.
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
        return self._session

    def _timeout(self, time_left: float | None) -> aiohttp.ClientTimeout:
        connect, read = self.settings.connect_timeout, self.settings.read_timeout
        if time_left is None:
            return aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)
        left = max(time_left, 0.001)
        return aiohttp.ClientTimeout(total=left, sock_connect=min(connect, left), sock_read=min(read, left))

    async def send(
        self,
        operation: str,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None = None,
        *,
        time_left: float | None = None,
        max_bytes: int | None = None,
    ) -> UpstreamResponse:
        """Send one request and read the whole answer (see :meth:`_exchange`)."""
        return await _observed(
            self._exchange, operation, method, url, headers, body, time_left=time_left, max_bytes=max_bytes
        )

    async def _exchange(
        self,
        operation: str,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None = None,
        *,
        time_left: float | None = None,
        max_bytes: int | None = None,
    ) -> UpstreamResponse:
        """Send one request and read the whole answer. ``url`` is already percent-encoded.

        ``time_left`` bounds the whole exchange, retries included: one timer cancels it when the
        time is up (a per-request aiohttp ``total`` timeout would cost two timers per attempt).
        ``max_bytes`` bounds the answer read (a binary one): past it, :class:`BinaryTooLarge`.
        """
        session = self._session
        if session is None or session.closed:
            session = self._open()
        target = self._urls.get(url)
        if target is None:
            target = URL(url, encoded=True)
            if len(self._urls) >= 512:  # ids make URLs vary; keep the hot ones, not all
                self._urls.clear()
            self._urls[url] = target
        started = time.perf_counter()
        deadline = None
        if time_left is not None:
            if time_left <= 0:
                raise UpstreamTimeout(operation, 0.0, phase="deadline")
            deadline = self._watchdog.arm(time_left)
        attempts = self.settings.retries + 1 if method in IDEMPOTENT_METHODS else 1
        delay = self.settings.retry_backoff
        try:
            for attempt in range(attempts):
                try:
                    async with session.request(
                        method, target, headers=headers, data=body, allow_redirects=False
                    ) as response:
                        if max_bytes is None:
                            payload = await response.read()
                        else:
                            payload = await _read_at_most(response, max_bytes, operation)
                        elapsed = (time.perf_counter() - started) * 1000
                        return UpstreamResponse(response.status, response.headers, payload, elapsed)
                except aiohttp.ConnectionTimeoutError:
                    raise UpstreamTimeout(operation, _ms(started), phase="connect") from None
                except (TimeoutError, aiohttp.ServerTimeoutError):
                    raise UpstreamTimeout(operation, _ms(started), phase="read") from None
                except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError) as exc:
                    # refused, reset or closed before an answer: safe to resend only when idempotent
                    retry_possible = attempt + 1 < attempts
                    left = None if time_left is None else time_left - (time.perf_counter() - started)
                    if not retry_possible or (left is not None and left <= delay):
                        raise UpstreamUnavailable(operation, _describe(exc)) from None
                    if tracing.active is not None:
                        tracing.active.retry(attempt + 1, _describe(exc))
                    await asyncio.sleep(delay)
                    delay *= 2
                except aiohttp.ClientError as exc:
                    raise UpstreamUnavailable(operation, _describe(exc)) from None
            raise UpstreamUnavailable(operation, "no attempt was made")  # pragma: no cover
        except asyncio.CancelledError:
            if deadline is not None and deadline.expired():
                raise UpstreamTimeout(operation, _ms(started), phase="deadline") from None
            raise
        finally:
            if deadline is not None:
                self._watchdog.disarm(deadline)

    async def stream(
        self,
        operation: str,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: AsyncIterator[bytes] | bytes | None,
        *,
        time_left: float | None = None,
    ) -> StreamedResponse:
        """Start a request whose answer is read incrementally (forwarding). Caller closes it."""
        return await _observed(self._start_stream, operation, method, url, headers, body, time_left=time_left)

    async def _start_stream(
        self,
        operation: str,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: AsyncIterator[bytes] | bytes | None,
        *,
        time_left: float | None = None,
    ) -> StreamedResponse:
        session = self._open()
        started = time.perf_counter()
        try:
            response = await session.request(
                method,
                URL(url, encoded=True),
                headers=headers,
                data=body,
                timeout=self._timeout(time_left),
                allow_redirects=False,
            )
        except aiohttp.ConnectionTimeoutError:
            raise UpstreamTimeout(operation, _ms(started), phase="connect") from None
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise UpstreamTimeout(operation, _ms(started), phase="read") from None
        except aiohttp.ClientError as exc:
            raise UpstreamUnavailable(operation, _describe(exc)) from None
        return StreamedResponse(response, operation, started)

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


async def _observed(
    call: Callable[..., Awaitable[Any]],
    operation: str,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: Any,
    **options: Any,
) -> Any:
    """``call`` (one upstream exchange) under the observability hooks: counted for the unit that
    made it (operation and status, time in flight), inside a client span when tracing is on."""
    traced = tracing.active
    record = upstream_started()
    try:
        if traced is not None:
            response = await traced.client(call, operation, method, url, headers, body, **options)
        else:
            response = await call(operation, method, url, headers, body, **options)
    except BaseException as exc:
        upstream_ended(record, operation, _failure(exc))
        raise
    upstream_ended(record, operation, response.status)  # a stream: its headers, the body follows
    return response


class _Deadline:
    """One request's deadline: the watchdog cancels its task when the time is up."""

    __slots__ = ("cancelling", "fired", "task", "when")

    def __init__(self, task: asyncio.Task[Any], when: float) -> None:
        self.task = task
        self.when = when
        self.cancelling = task.cancelling()
        self.fired = False

    def expired(self) -> bool:
        """True when the CancelledError being handled is this deadline's (and absorb it), as
        ``asyncio.timeout`` tells its own cancellation from anyone else's."""
        return self.fired and self.task.uncancel() <= self.cancelling


class _Watchdog:
    """The deadlines of a client's in-flight requests, watched by one timer.

    ``asyncio.timeout`` or aiohttp's ``total`` arm and cancel a timer per request; here a request
    only joins a set, and the single timer is moved only when a deadline earlier than every other
    arrives (rare: deadlines are "now + the unit's budget", so they come in increasing order).
    """

    __slots__ = ("_handle", "_loop", "_pending", "_when")

    def __init__(self) -> None:
        self._pending: set[_Deadline] = set()
        self._handle: asyncio.TimerHandle | None = None
        self._when = float("inf")
        self._loop: asyncio.AbstractEventLoop | None = None

    def arm(self, delay: float) -> _Deadline:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task(loop)
        if task is None:  # pragma: no cover - send() always runs in a task
            raise RuntimeError("HttpClient.send must run inside an asyncio task")
        if loop is not self._loop:  # a client reused on another loop starts afresh
            self._loop, self._handle, self._when = loop, None, float("inf")
            self._pending = set()
        deadline = _Deadline(task, loop.time() + delay)
        self._pending.add(deadline)
        if deadline.when < self._when:
            self._schedule(deadline.when)
        return deadline

    def disarm(self, deadline: _Deadline) -> None:
        self._pending.discard(deadline)

    def _schedule(self, when: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        assert self._loop is not None
        self._when = when
        self._handle = self._loop.call_at(when, self._fire)

    def _fire(self) -> None:
        assert self._loop is not None
        self._handle, self._when = None, float("inf")
        now = self._loop.time() + 0.001  # timers may fire up to a clock tick early
        due = [d for d in self._pending if d.when <= now]
        for deadline in due:
            self._pending.discard(deadline)
            deadline.fired = True
            deadline.task.cancel()
        if self._pending:
            self._schedule(min(d.when for d in self._pending))


class StreamedResponse:
    """An upstream answer being relayed chunk by chunk."""

    def __init__(self, response: aiohttp.ClientResponse, operation: str, started: float) -> None:
        self._response = response
        self.operation = operation
        self.status = response.status
        self.headers = response.headers
        self.started = started

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except (TimeoutError, aiohttp.ClientError):
            return  # the client sees a truncated body; the status line has already been sent
        finally:
            self._response.release()

    def close(self) -> None:
        self._response.release()


class ClientPool:
    """The clients of one runtime, by consumed namespace."""

    def __init__(self, settings: TransportSettings | None = None) -> None:
        self.settings = settings or TransportSettings()
        self._clients: dict[str, HttpClient] = {}

    def client(self, namespace: str) -> HttpClient:
        client = self._clients.get(namespace)
        if client is None:
            client = self._clients[namespace] = HttpClient(namespace, self.settings)
        return client

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()


async def _read_at_most(response: aiohttp.ClientResponse, limit: int, operation: str) -> bytes:
    """The body, or :class:`BinaryTooLarge` as soon as it is known to exceed ``limit``."""
    declared = response.content_length
    if declared is not None and declared > limit:
        raise BinaryTooLarge(operation, limit, declared)
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.content.iter_chunked(1 << 16):
        total += len(chunk)
        if total > limit:
            raise BinaryTooLarge(operation, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _failure(exc: BaseException) -> str:
    """How an upstream call failed, as the metrics' status label."""
    if isinstance(exc, UpstreamTimeout):
        return "timeout"
    if isinstance(exc, UpstreamUnavailable):
        return "unavailable"
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    return "error"


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _describe(exc: BaseException) -> str:
    """A reason for the server log (clients are told only that the operation could not be reached).

    aiohttp messages name host and port, never headers or bodies; a URL (an invalid one is quoted
    whole, query string and API key included) is left out before anything else happens to the text."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        reason = exc.os_error.strerror if exc.os_error and exc.os_error.strerror else str(exc.os_error)
        return f"cannot connect to {exc.host}:{exc.port} ({reason})"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    if isinstance(exc, aiohttp.InvalidURL):
        return "invalid upstream URL"
    text = without_urls(str(exc)) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
