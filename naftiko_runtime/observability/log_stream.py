"""Log records fanned out to live subscribers (the control adapter's ``GET /logs/stream``).

A :class:`LogHub` is a ``logging`` handler on the ``naftiko``, ``uvicorn`` and ``mcp`` loggers while
at least one subscriber listens, and on none otherwise: nobody listening costs nothing. Each record
is formatted once, as the JSON line of ``--log-format json`` with secrets scrubbed the same way
(:class:`~naftiko_runtime.binds.SecretRedactingFilter` and the formatter's redactor), then offered to
every subscriber's bounded queue. A subscriber whose queue is full is not keeping up: it is dropped
(its stream ends with a last event saying so), so a client that stops reading can hold at most
``queue_size`` records, never more.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from ..binds import Redactor, Secret, SecretRedactingFilter
from .logs import JsonFormatter

STREAMED_LOGGERS = ("naftiko", "uvicorn", "mcp")
QUEUE_SIZE = 256


class Subscriber:
    """One listener: its queue of JSON lines, and whether the hub dropped it."""

    def __init__(self, queue_size: int) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue(queue_size)
        self.dropped = False
        self.wake = asyncio.Event()


class Full(Exception):
    """No room for one more subscriber."""


class LogHub(logging.Handler):
    """Broadcasts log records to at most ``max_subscribers`` subscribers."""

    def __init__(
        self, max_subscribers: int, secrets: Iterable[Secret] = (), queue_size: int = QUEUE_SIZE
    ) -> None:
        super().__init__()
        self.max_subscribers = max_subscribers
        self.queue_size = queue_size
        self.subscribers: list[Subscriber] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.set_secrets(secrets)

    def set_secrets(self, secrets: Iterable[Secret]) -> None:
        """The values to scrub (a reload may bring new binds)."""
        secrets = tuple(secrets)
        self.setFormatter(JsonFormatter(Redactor(secrets)))
        self.filters = [SecretRedactingFilter(secrets)] if secrets else []

    def subscribe(self) -> Subscriber:
        """A new subscriber, or :class:`Full`; the first one attaches the hub to the loggers."""
        if len(self.subscribers) >= self.max_subscribers:
            raise Full(f"at most {self.max_subscribers} log stream subscribers at once (max-subscribers)")
        self._loop = asyncio.get_running_loop()
        subscriber = Subscriber(self.queue_size)
        if not self.subscribers:
            for name in STREAMED_LOGGERS:
                logging.getLogger(name).addHandler(self)
        self.subscribers.append(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        if subscriber in self.subscribers:
            self.subscribers.remove(subscriber)
        if not self.subscribers:
            for name in STREAMED_LOGGERS:
                logging.getLogger(name).removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._offer(line)
        else:  # a record from another thread: hand it to the loop the subscribers read on
            loop.call_soon_threadsafe(self._offer, line)

    def _offer(self, line: str) -> None:
        for subscriber in list(self.subscribers):
            try:
                subscriber.queue.put_nowait(line)
            except asyncio.QueueFull:
                self.drop(subscriber)

    def drop(self, subscriber: Subscriber) -> None:
        """Stop feeding ``subscriber``; its stream ends after what it already has."""
        subscriber.dropped = True
        subscriber.wake.set()
        self.unsubscribe(subscriber)
