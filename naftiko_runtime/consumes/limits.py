"""How much a consumed namespace may cost this process, and how it is protected from the upstream.

None of this is in the capability document (the spec has no keys for it, and no ``x-`` extensions
on a consumed adapter): it is machine configuration, given as ``naftiko serve`` flags for every
namespace and ``--namespace-limits NAMESPACE:key=value,...`` for one of them::

    --namespace-limits "github:max-concurrent=8,queue=32,cache-ttl=30,retry-throttled=2"

An unknown key, a bad value or a namespace no document consumes is an error naming it, never
ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace

DEFAULT_MAX_BODY = 32 << 20


@dataclass(frozen=True, slots=True)
class Limits:
    """The protections of one consumed namespace (each 0 or None: off)."""

    max_body: int | None = DEFAULT_MAX_BODY
    """Largest upstream answer read into memory, in bytes; past it the call fails with 502."""
    max_forward_body: int | None = None
    """Largest answer a ``forward`` resource relays (streamed; None: no limit)."""
    retry_throttled: int = 0
    """How many times an idempotent call answered 429/503 is sent again, after its ``Retry-After``
    (when that fits in the unit's time left and in ``retry_max_wait``)."""
    retry_max_wait: float = 10.0
    """The longest ``Retry-After`` a retry waits for; a longer one is answered to the caller."""
    circuit_failures: int = 5
    """Consecutive connection failures or timeouts that open the circuit (0: never opens)."""
    circuit_cooldown: float = 30.0
    """Seconds an open circuit fails calls at once before one probe is let through."""
    max_concurrent: int | None = None
    """Upstream calls in flight at once (None: as many as the connection pool holds)."""
    queue: int = 0
    """Calls that may wait for a free slot when ``max_concurrent`` are in flight; beyond: 503."""
    single_flight: bool = True
    """Identical concurrent safe calls (GET, HEAD) share one upstream request."""
    cache_ttl: float = 0.0
    """Seconds a safe call's answer is reused (0: no cache). ``Cache-Control`` can only shorten it."""


_KEYS = {f.name.replace("_", "-"): f.name for f in fields(Limits)}
LIMIT_KEYS = tuple(_KEYS)
_SIZE = re.compile(r"(?i)^\s*(\d+)\s*(b|kib|kb|mib|mb|gib|gb)?\s*$")
_SCALE = {
    None: 1,
    "b": 1,
    "kb": 1000,
    "kib": 1 << 10,
    "mb": 1000**2,
    "mib": 1 << 20,
    "gb": 1000**3,
    "gib": 1 << 30,
}


def parse_size(text: str) -> int | None:
    """``32MiB`` → 33554432; ``0`` or ``off`` → None (no limit). Raises ``ValueError``."""
    if text.strip().lower() in ("0", "off", "none"):
        return None
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"expected a size such as 32MiB, 500kB or 1048576, got {text!r}")
    return int(match.group(1)) * _SCALE[match.group(2).lower() if match.group(2) else None]


def _value(key: str, text: str) -> object:
    name = _KEYS[key]
    if name in ("max_body", "max_forward_body"):
        return parse_size(text)
    if name == "single_flight":
        lowered = text.strip().lower()
        if lowered not in ("on", "off", "true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"{key}: expected on or off, got {text!r}")
        return lowered in ("on", "true", "1", "yes")
    if name in ("retry_max_wait", "circuit_cooldown", "cache_ttl"):
        number = float(text)
        if not number >= 0:
            raise ValueError(f"{key}: expected a number of seconds ≥ 0, got {text!r}")
        return number
    count = int(text)
    if count < 0:
        raise ValueError(f"{key}: expected an integer ≥ 0, got {text!r}")
    return None if name == "max_concurrent" and count == 0 else count


def parse_namespace_limits(entries: Iterable[str], base: Limits) -> dict[str, Limits]:
    """``["ns:key=value,key=value", ...]`` → per-namespace :class:`Limits` over ``base``.

    Raises ``ValueError`` naming the entry and the key when one is malformed or unknown."""
    out: dict[str, Limits] = {}
    for entry in entries:
        namespace, sep, settings = entry.partition(":")
        namespace = namespace.strip()
        if not sep or not namespace or not settings.strip():
            raise ValueError(f"--namespace-limits {entry!r}: expected NAMESPACE:key=value[,key=value...]")
        changes: dict[str, object] = {}
        for pair in settings.split(","):
            key, eq, text = pair.partition("=")
            key = key.strip().lower()
            if not eq or key not in _KEYS:
                known = ", ".join(_KEYS)
                raise ValueError(f"--namespace-limits {entry!r}: unknown setting {key!r} (known: {known})")
            try:
                changes[_KEYS[key]] = _value(key, text.strip())
            except ValueError as exc:
                raise ValueError(f"--namespace-limits {entry!r}: {key}: {exc}") from None
        out[namespace] = replace(out.get(namespace, base), **changes)  # type: ignore[arg-type]
    return out


def check_namespaces(limits: Mapping[str, Limits], known: Iterable[str]) -> None:
    """Every namespace given settings is consumed by some document; raises ``ValueError`` otherwise
    (a typo would otherwise leave the real namespace unprotected)."""
    names = sorted(set(known))
    unknown = [namespace for namespace in limits if namespace not in names]
    if unknown:
        raise ValueError(
            f"--namespace-limits names no consumed namespace {', '.join(map(repr, unknown))} "
            f"(consumed namespaces: {', '.join(names) or 'none'})"
        )
