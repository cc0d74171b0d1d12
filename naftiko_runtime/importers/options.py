"""What an import may be asked: names, ports, which adapters, which operations, how strict."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from ..spec.addresses import base_uri_problem
from .diagnostics import ImportFailed

ADAPTERS = ("rest", "mcp")
TOOL_WARNING_THRESHOLD = 40
_KEBAB = re.compile(r"[a-zA-Z0-9-]+")
_BASE_URI = re.compile(r"https?://[^/]+(/[^{]*)?")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class InvalidOptions(ImportFailed):
    """An option has no sensible meaning (a bad port, an unknown adapter, an unknown option)."""


@dataclass(frozen=True)
class ImportOptions:
    """Options of :func:`naftiko_runtime.importers.openapi` (and of ``naftiko import openapi``).

    ``namespace``: the consumed namespace (default: from the title); ``base_uri``: instead of the
    description's first server; ``expose``: adapters to generate; ``shape``: map the documented
    response fields instead of returning the whole body; ``include_tags``, ``exclude_tags``,
    ``operations`` (operationIds or generated names), ``methods``: which operations; ``max_tools``:
    refuse more than this many; ``strict``: every diagnostic is an error.
    """

    namespace: str | None = None
    base_uri: str | None = None
    expose: tuple[str, ...] = ADAPTERS
    rest_port: int = 8080
    mcp_port: int = 9090
    shape: bool = False
    include_tags: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    max_tools: int | None = None
    strict: bool = False

    @classmethod
    def of(cls, options: dict[str, Any]) -> ImportOptions:
        """Options from keywords, lists given as lists or comma-separated text; bad ones refused by name."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise InvalidOptions(
                f"unknown import option(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})"
            )
        values = dict(options)
        for name in ("expose", "include_tags", "exclude_tags", "operations", "methods"):
            if name in values:
                values[name] = _items(values[name])
        made = cls(**values)
        made.check()
        return made

    def check(self) -> None:
        if self.namespace is not None and not _KEBAB.fullmatch(self.namespace):
            raise InvalidOptions(f"namespace {self.namespace!r}: use letters, digits and '-' only")
        if self.base_uri is not None and not is_base_uri(self.base_uri):
            raise InvalidOptions(
                f"base URI {self.base_uri!r}: expected http(s)://host[:port][/path] without {{"
            )
        unknown = [a for a in self.expose if a not in ADAPTERS]
        if unknown or not self.expose:
            raise InvalidOptions(f"expose {','.join(self.expose)!r}: choose from {', '.join(ADAPTERS)}")
        methods = [m.upper() for m in self.methods]
        if any(m not in _METHODS for m in methods):
            raise InvalidOptions(f"methods {','.join(self.methods)!r}: choose from {', '.join(_METHODS)}")
        for name in ("rest_port", "mcp_port"):
            port = getattr(self, name)
            if not isinstance(port, int) or not 1 <= port <= 65535:
                raise InvalidOptions(f"{name.replace('_', '-')} {port!r}: expected a port number 1-65535")
        if "rest" in self.expose and "mcp" in self.expose and self.rest_port == self.mcp_port:
            raise InvalidOptions(
                f"rest-port and mcp-port are both {self.rest_port}: two adapters need two ports"
            )
        if self.max_tools is not None and self.max_tools < 1:
            raise InvalidOptions(f"max-tools {self.max_tools}: expected at least 1")


def is_base_uri(text: str) -> bool:
    """An absolute http(s) URL both the spec and an HTTP client accept: a host, a valid port, no
    placeholder, nothing that needs encoding."""
    if not _BASE_URI.fullmatch(text) or any(c in text for c in "{} \t"):
        return False
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises on a bad port or an unclosed IPv6 literal
    except ValueError:
        return False
    # The loader's own rule too (a host IDNA refuses, such as a label over 63 characters).
    return bool(parts.hostname) and base_uri_problem(text) is None


def _items(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, Iterable):
        raise InvalidOptions(f"expected a list or comma-separated text, got {value!r}")
    return tuple(str(v).strip() for v in value if str(v).strip())
