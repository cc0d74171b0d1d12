"""Where a capability listens and what it calls: ports in range, one adapter per address and port
(within a file and across the files served together), base URIs that parse as URLs.

Each of these, left to run time, is a traceback at startup (``port: -1``), a server that never
starts (two adapters on one port, found only by the second ``bind``) or a failure on every request
(``baseUri: http://[::1``). Here each is a located error; the same URL check serves ``--base-uri``
and the runtime, which checks a base URI again once its binds are filled in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from yarl import URL

from ..expressions.names import PATH_PLACEHOLDER
from .identifiers import consumed
from .models import Document, McpExpose
from .source import DocPath

Report = Callable[[DocPath, str, str], None]
Locate = Callable[[DocPath], str]

PORTS = range(1, 65536)
WILDCARD_HOSTS = frozenset({None, "", "0.0.0.0", "::", "*"})


@dataclass(frozen=True, slots=True)
class Listening:
    """An adapter that listens on a TCP port."""

    port: int
    address: str | None
    path: DocPath  # the adapter's path in its document


def listening(document: Document) -> Iterator[Listening]:
    """Every adapter that opens a TCP port (an MCP adapter over stdio opens none)."""
    capability = document.capability
    for index, expose in enumerate(capability.exposes if capability else ()):
        if expose.port is None or (isinstance(expose, McpExpose) and expose.transport == "stdio"):
            continue
        yield Listening(expose.port, expose.address, ("capability", "exposes", index))


def overlap(a: str | None, b: str | None) -> bool:
    """Two listening addresses collide on one port: the same address, or either one is a wildcard."""
    return a == b or a in WILDCARD_HOSTS or b in WILDCARD_HOSTS


def check_addresses(document: Document, error: Report, locate: Locate) -> None:
    """Ports in range and not shared within the document; base URIs that parse."""
    capability = document.capability
    for index, expose in enumerate(capability.exposes if capability else ()):
        if expose.port is not None and expose.port not in PORTS:
            error(
                ("capability", "exposes", index, "port"),
                f"port {expose.port} is out of range: a port is a number from 1 to 65535",
                "bad-port",
            )
    seen: list[Listening] = []
    for entry in listening(document):
        if entry.port in PORTS:
            for other in seen:
                if other.port == entry.port and overlap(entry.address, other.address):
                    error(
                        (*entry.path, "port"), port_conflict(entry.port, locate(other.path)), "port-conflict"
                    )
                    break
            seen.append(entry)
    for consumes, path in consumed(document):
        reason = base_uri_problem(consumes.base_uri)
        if reason:
            error((*path, "baseUri"), f"`baseUri` {consumes.base_uri.strip()!r} is {reason}", "bad-base-uri")


def port_conflict(port: int, other: str) -> str:
    return (
        f"port {port} is already used by the adapter at {other}; "
        "two adapters cannot listen on one address and port"
    )


def _without_host(sample: str) -> bool:
    try:
        return not urlsplit(sample).hostname
    except ValueError:  # an unclosed IPv6 bracket: a host, and a broken one
        return False


def base_uri_problem(text: str, *, host: bool = True) -> str | None:
    """Why ``text`` cannot be a base URI, as ``not a valid URL (reason)``; ``None`` when it can be one
    (or cannot be told before binds are filled in). A placeholder stands for one label of a host, a
    port or a path segment. ``host=False`` accepts a URL without a host (a run with placeholder
    bind values, as ``export`` builds; a request to it fails cleanly)."""
    sample = PATH_PLACEHOLDER.sub("1", text.strip())
    if not sample.lower().startswith(("http://", "https://")):
        return None  # not an http(s) URL at all: the semantic rules warn about that
    try:
        url = URL(sample)  # not `encoded`: an internationalised host name is a host (IDNA)
        port, named = url.port, url.host  # computed lazily: a host that IDNA refuses fails here
    except ValueError as exc:
        if not host and _without_host(sample):
            return None  # no host at all, which the caller accepts (yarl refuses before we can tell)
        return f"not a valid URL ({exc})"
    if host and not named:
        return "not a valid URL (it names no host)"
    if port is not None and port not in PORTS:
        return f"not a valid URL (port {port} is out of range)"
    return None
