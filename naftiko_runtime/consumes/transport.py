"""One pooled HTTP client per consumed namespace, on aiohttp.

Why aiohttp and not httpx, measured here through a minimal Starlette proxy at 16 connections
(``bench/transport.py``, 2026-11-29, busy 2-core machine, CPU time per proxied request): httpx's own
async pool 981 µs, httpx over an aiohttp transport 273 µs, aiohttp 128 µs, aiohttp with orjson 110 µs
(~9x httpx's throughput). The consumer sits on every request's path, so it must not be the
bottleneck. httpx stays the client of our tests and tools.

The client knows nothing of specs or adapters: it sends bytes, enforces connect/read timeouts and the
time left to the unit, retries idempotent requests on connection errors (never on timeouts, never
once a response started), and turns failures into :mod:`naftiko_runtime.errors` values. The
namespace's :class:`~.limits.Limits` apply here, around every request: the answer size, the circuit
and the concurrency cap (:mod:`.circuit`), single flight and the cache (:mod:`.flight`), and the
optional retry of a throttled (429/503) idempotent request after its ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from ..errors import (
    BinaryTooLarge,
    UpstreamTimeout,
    UpstreamTooLarge,
    UpstreamUnavailable,
    retry_after_seconds,
    without_urls,
)
from ..observability import tracing
from ..observability.context import upstream_ended, upstream_started
from .aiohttp_compat import without_hidden_retry
from .circuit import Circuit, Gate
from .flight import SAFE_METHODS, Flights, key_of
from .limits import Limits

log = logging.getLogger("naftiko.transport")
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True, slots=True)
class TransportSettings:
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    retries: int = 2
    retry_backoff: float = 0.05  # seconds; doubles each attempt
    pool_limit: int = 256  # open connections per consumed namespace
    keepalive: float = 30.0
    limits: Limits = field(default_factory=Limits)  # every namespace's, unless it has its own
    namespace_limits: Mapping[str, Limits] = field(default_factory=dict)

    def limits_of(self, namespace: str) -> Limits:
        return self.namespace_limits.get(namespace, self.limits)


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
        self._watchdog = _Watchdog()
        self._urls: dict[str, URL] = {}
        limits = self.limits = self.settings.limits_of(namespace)
        self.circuit = Circuit(namespace, limits.circuit_failures, limits.circuit_cooldown)
        self.gate = Gate(namespace, limits.max_concurrent, limits.queue) if limits.max_concurrent else None
        self.flights = Flights(limits.cache_ttl) if limits.single_flight or limits.cache_ttl else None
        self._throttled_attempts = limits.retry_throttled + 1

    def state(self) -> dict[str, Any]:
        out: dict[str, Any] = {"namespace": self.namespace, **self.circuit.snapshot()}
        out["circuitOpened"] = self.circuit.opened
        if self.gate is not None:
            out.update(inFlight=self.gate.in_flight, queued=self.gate.waiting, refused=self.gate.refused)
        if self.flights is not None:
            out.update(shared=self.flights.shared, cacheHits=self.flights.hits)
        return out

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
            without_hidden_retry(self._session)
        return self._session

    def _timeout(self, time_left: float | None) -> aiohttp.ClientTimeout:
        connect, read = self.settings.connect_timeout, self.settings.read_timeout
        if time_left is None:
            return aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)
        left = max(time_left, 0.001)
        return aiohttp.ClientTimeout(total=left, sock_connect=min(connect, left), sock_read=min(read, left))

    def send(
        self,
        operation: str,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None = None,
        *,
        time_left: float | None = None,
        max_bytes: int | None = None,
    ) -> Awaitable[UpstreamResponse]:
        """Send one request and read the whole answer (see :meth:`_exchange`).

        Not a coroutine itself: it hands back the observed exchange, one coroutine frame fewer on
        every upstream call (each layer of ``await`` costs the hot path about half a microsecond).
        """
        return _observed(
            self._exchange, operation, method, url, headers, body, time_left=time_left, max_bytes=max_bytes
        )

    def _exchange(
        self,
        operation: str,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None = None,
        *,
        time_left: float | None = None,
        max_bytes: int | None = None,
    ) -> Awaitable[UpstreamResponse]:
        """Send one request and read the whole answer. ``url`` is already percent-encoded.

        ``max_bytes`` bounds a binary answer (past it, :class:`BinaryTooLarge`); any other answer
        is bounded by the namespace's ``max-body`` (:class:`UpstreamTooLarge`). An identical safe
        call already in flight is joined rather than sent again (:meth:`_flown`); a cached answer
        is reused. Without single flight this is :meth:`_send` itself, no frame in between.
        """
        if max_bytes is None:
            limit, too_large = self.limits.max_body, UpstreamTooLarge
        else:
            limit, too_large = max_bytes, BinaryTooLarge
        flights = self.flights
        if flights is None or body is not None or method not in SAFE_METHODS:
            return self._send(
                operation,
                method,
                url,
                headers,
                body,
                time_left=time_left,
                max_bytes=limit,
                too_large=too_large,
            )
        return self._flown(flights, operation, method, url, headers, time_left, limit, too_large)

    async def _flown(
        self,
        flights: Flights,
        operation: str,
        method: str,
        url: str,
        headers: Mapping[str, str],
        time_left: float | None,
        limit: int | None,
        too_large: type[UpstreamTooLarge],
    ) -> UpstreamResponse:
        """A safe call under single flight and the cache."""
        key = key_of(method, url, headers)
        cached = flights.cached(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        flying = flights.in_flight(key)
        if flying is not None:
            try:
                shared = await flights.follow(flying, time_left)
            except TimeoutError:
                raise UpstreamTimeout(operation, (time_left or 0) * 1000, phase="deadline") from None
            if shared is not None:
                return shared  # type: ignore[no-any-return]
            # the leader was cancelled: send our own
        flight = flights.lead(key)
        try:
            response = await self._send(
                operation,
                method,
                url,
                headers,
                None,
                time_left=time_left,
                max_bytes=limit,
                too_large=too_large,
            )
        except asyncio.CancelledError:
            flights.crashed(key, flight, None)
            raise
        except BaseException as exc:
            flights.crashed(key, flight, exc)
            raise
        flights.landed(key, flight, response, response.headers)
        return response

    async def _send(
        self,
        operation: str,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None = None,
        *,
        time_left: float | None,
        max_bytes: int | None,
        too_large: type[UpstreamTooLarge],
    ) -> UpstreamResponse:
        """One exchange, resent on a connection error (idempotent requests) or a throttled answer
        (``retry-throttled``); the circuit and the concurrency gate are around it.

        ``time_left`` bounds the whole exchange, retries included: one timer cancels it when the
        time is up (a per-request aiohttp ``total`` timeout would cost two timers per attempt).
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
        idempotent = method in IDEMPOTENT_METHODS
        attempts = self.settings.retries + 1 if idempotent else 1
        throttled = self._throttled_attempts if idempotent else 1
        delay = self.settings.retry_backoff
        circuit, gate = self.circuit, self.gate
        try:
            circuit.admit(operation)
            if gate is not None:
                await gate.acquire(operation)
            try:
                attempt = 0
                while True:
                    try:
                        async with session.request(
                            method, target, headers=headers, data=body, allow_redirects=False
                        ) as response:
                            payload = await _read_at_most(response, max_bytes, operation, too_large)
                            elapsed = (time.perf_counter() - started) * 1000
                            answer = UpstreamResponse(response.status, response.headers, payload, elapsed)
                    except aiohttp.ConnectionTimeoutError:
                        circuit.failed("connect timeout")
                        raise UpstreamTimeout(operation, _ms(started), phase="connect") from None
                    except (TimeoutError, aiohttp.ServerTimeoutError):
                        circuit.failed("read timeout")
                        raise UpstreamTimeout(operation, _ms(started), phase="read") from None
                    except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError) as exc:
                        # refused, reset or closed before an answer: safe to resend only when idempotent
                        attempt += 1
                        left = None if time_left is None else time_left - (time.perf_counter() - started)
                        if attempt >= attempts or (left is not None and left <= delay):
                            reason = _describe(exc)
                            circuit.failed(reason)
                            raise UpstreamUnavailable(operation, reason) from None
                        if tracing.active is not None:
                            tracing.active.retry(attempt + 1, _describe(exc))
                        await asyncio.sleep(delay)
                        delay *= 2
                        continue
                    except aiohttp.ClientError as exc:
                        reason = _describe(exc)
                        circuit.failed(reason)
                        raise UpstreamUnavailable(operation, reason) from None
                    circuit.succeeded()
                    throttled -= 1
                    wait = _throttle_wait(answer, throttled, self.limits.retry_max_wait)
                    left = None if time_left is None else time_left - (time.perf_counter() - started)
                    if wait is None or (left is not None and left <= wait):
                        return answer
                    await asyncio.sleep(wait)
            finally:
                if gate is not None:
                    gate.release()
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
        """Start a request whose answer is read incrementally (see :meth:`_start_stream`)."""
        streamed: StreamedResponse = await _observed(
            self._start_stream, operation, method, url, headers, body, time_left=time_left
        )
        return streamed

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
        """Start a request whose answer is read incrementally (forwarding). Caller closes it.

        The answer streams unbounded unless the namespace has a ``max-forward-body``: then a
        declared larger one fails before anything is relayed, and an undeclared one is cut there."""
        session = self._open()
        started = time.perf_counter()
        circuit = self.circuit
        circuit.admit(operation)
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
            circuit.failed("connect timeout")
            raise UpstreamTimeout(operation, _ms(started), phase="connect") from None
        except (TimeoutError, aiohttp.ServerTimeoutError):
            circuit.failed("read timeout")
            raise UpstreamTimeout(operation, _ms(started), phase="read") from None
        except aiohttp.ClientError as exc:
            reason = _describe(exc)
            circuit.failed(reason)
            raise UpstreamUnavailable(operation, reason) from None
        circuit.succeeded()
        limit = self.limits.max_forward_body
        if limit is not None and response.content_length is not None and response.content_length > limit:
            response.close()
            raise UpstreamTooLarge(operation, limit, response.content_length)
        return StreamedResponse(response, operation, started, limit)

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

    def __init__(
        self, response: aiohttp.ClientResponse, operation: str, started: float, limit: int | None = None
    ) -> None:
        self._response = response
        self._limit = limit
        self.operation = operation
        self.status = response.status
        self.headers = response.headers
        self.started = started

    async def chunks(self) -> AsyncIterator[bytes]:
        left = self._limit
        try:
            async for chunk in self._response.content.iter_any():
                if left is not None:
                    if len(chunk) > left:
                        log.warning(
                            "%s: answer cut at max-forward-body (%d bytes)", self.operation, self._limit
                        )
                        self._response.close()
                        return
                    left -= len(chunk)
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

    def adopt(self, namespace: str, client: HttpClient) -> None:
        """Use ``client`` (another pool's, kept across a reload) for ``namespace``."""
        self._clients[namespace] = client

    def clients(self) -> dict[str, HttpClient]:
        return dict(self._clients)

    def states(self) -> list[dict[str, Any]]:
        """Each consumed namespace's circuit, in-flight calls and sharing, for /status and /metrics."""
        return [client.state() for _, client in sorted(self._clients.items())]

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()


def _read_at_most(
    response: aiohttp.ClientResponse, limit: int | None, operation: str, too_large: type[UpstreamTooLarge]
) -> Awaitable[bytes]:
    """The body, or ``too_large`` as soon as it is known to exceed ``limit``; the connection is then
    closed, not drained, and what was read so far is dropped. An answer that declares a length
    within the limit (the usual one) is read by aiohttp directly, without a frame of ours."""
    declared = response.content_length
    if limit is None or (declared is not None and declared <= limit):
        return response.read()
    if declared is not None:
        response.close()
        raise too_large(operation, limit, declared)
    return _read_chunks(response, limit, operation, too_large)


async def _read_chunks(
    response: aiohttp.ClientResponse, limit: int, operation: str, too_large: type[UpstreamTooLarge]
) -> bytes:
    """An answer of undeclared length, read until it ends or passes ``limit``."""
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.content.iter_chunked(1 << 16):
        total += len(chunk)
        if total > limit:
            response.close()
            raise too_large(operation, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _throttle_wait(response: UpstreamResponse, attempts_left: int, longest: float) -> float | None:
    """Seconds to wait before resending a throttled request, or None: answer it as it is."""
    if attempts_left <= 0 or response.status not in (429, 503):
        return None
    header = response.headers.get("Retry-After")
    wait = retry_after_seconds(header) if header else 1.0
    return wait if wait is not None and wait <= longest else None


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
