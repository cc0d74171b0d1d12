"""Sharing safe upstream calls: one request for identical concurrent calls, and a short-TTL cache.

Only safe requests (GET, HEAD, no body) are shared. Two calls are identical when their method, URL
and every request header are: the headers include the credentials the capability sends, so an
answer is never shared between different credentials (nor between callers whose own values
travel in a header). What is shared is the answer's bytes; each caller decodes its own copy.

Single flight: while a request is in flight, an identical call waits for its answer instead of
sending its own. Cache (opt-in, ``cache-ttl``): a 2xx answer is kept for the TTL, or less when the
upstream says so (``Cache-Control: max-age`` / ``s-maxage``); ``no-store``, ``no-cache`` and
``private`` answers are never kept (this is a cache shared by every caller of the capability).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

Key = tuple[str, str, tuple[tuple[str, str], ...]]
SAFE_METHODS = frozenset({"GET", "HEAD"})
_MAX_AGE = re.compile(r"(?:^|,)\s*(s-maxage|max-age)\s*=\s*\"?(\d+)")
_NEVER = re.compile(r"(?:^|,)\s*(no-store|no-cache|private)\b", re.IGNORECASE)


def key_of(method: str, url: str, headers: Mapping[str, str]) -> Key:
    return (method, url, tuple(headers.items()))


class Flights:
    """The requests in flight, and the cached answers, of one consumed namespace."""

    __slots__ = ("_cache", "_flying", "cache_ttl", "hits", "max_entries", "shared")

    def __init__(self, cache_ttl: float = 0.0, max_entries: int = 1024) -> None:
        self.cache_ttl = cache_ttl
        self.max_entries = max_entries
        self.shared = 0  # calls answered by another call's request
        self.hits = 0  # calls answered from the cache
        self._flying: dict[Key, Flight] = {}
        self._cache: OrderedDict[Key, tuple[float, Any]] = OrderedDict()

    def cached(self, key: Key) -> Any:
        if not self._cache:
            return None
        entry = self._cache.get(key)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            del self._cache[key]
            return None
        self.hits += 1
        return entry[1]

    def in_flight(self, key: Key) -> Flight | None:
        return self._flying.get(key)

    def lead(self, key: Key) -> Flight:
        flight = self._flying[key] = Flight()
        return flight

    def landed(self, key: Key, flight: Flight, response: Any, headers: Mapping[str, str]) -> None:
        """The leader's answer: hand it to the followers, and keep it when it may be kept."""
        self._flying.pop(key, None)
        if flight.future is not None:
            flight.future.set_result(response)
        if self.cache_ttl > 0 and 200 <= response.status < 300:
            ttl = freshness(headers.get("Cache-Control"), self.cache_ttl)
            if ttl > 0:
                self._cache[key] = (time.monotonic() + ttl, response)
                if len(self._cache) > self.max_entries:
                    self._cache.popitem(last=False)

    def crashed(self, key: Key, flight: Flight, exc: BaseException | None) -> None:
        """The leader failed (``exc``, which followers raise too) or was cancelled (``None``:
        followers send their own request)."""
        self._flying.pop(key, None)
        future = flight.future
        if future is None:
            return
        if exc is None:
            future.set_result(None)
        else:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody followed

    async def follow(self, flight: Flight, time_left: float | None) -> Any:
        """The leader's answer (None: it was cancelled), waiting at most ``time_left`` seconds."""
        self.shared += 1
        if flight.future is None:
            flight.future = asyncio.get_running_loop().create_future()
        if time_left is None:
            return await asyncio.shield(flight.future)
        async with asyncio.timeout(time_left):
            return await asyncio.shield(flight.future)


class Flight:
    """A request in flight; its future exists once a second caller waits for it (most never do)."""

    __slots__ = ("future",)

    def __init__(self) -> None:
        self.future: asyncio.Future[Any] | None = None


def freshness(cache_control: str | None, ttl: float) -> float:
    """Seconds an answer may be reused: ``ttl``, or less as ``Cache-Control`` says; 0: never."""
    if not cache_control:
        return ttl
    if _NEVER.search(cache_control):
        return 0.0
    ages = dict((name.lower(), int(value)) for name, value in _MAX_AGE.findall(cache_control.lower()))
    age = ages.get("s-maxage", ages.get("max-age"))
    return ttl if age is None else min(ttl, float(age))
