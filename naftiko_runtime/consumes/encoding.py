"""Putting values on the wire: path segments, query strings, headers and cookies.

Every value is encoded for the one place it goes, so that no value can change the structure around
it: a path value can never add a segment or climb (``../admin``, ``a/b``, ``?x``, ``#``), a header
value can never add a header.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import orjson

from ..urichars import COOKIE_VALUE, PARAMETER_SEGMENT, QUERY_VALUE


class UnsafeValue(ValueError):
    """A value that cannot be placed where it was asked to go (CR/LF in a header)."""


def scalar_text(value: Any) -> str:
    """How a value reads on the wire: ``true``/``false``, integers without ``.0``, JSON for structures."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    reveal = getattr(value, "reveal", None)
    if callable(reveal):
        return str(reveal())
    if value is None:
        return ""
    return orjson.dumps(value).decode()


def path_segment(value: Any) -> str:
    """Percent-encode a value for one path segment; ``.`` and ``..`` are encoded so they cannot climb."""
    if type(value) is int:  # the common id: nothing to encode
        return str(value)
    text = quote(scalar_text(value), safe=PARAMETER_SEGMENT)
    if text in (".", ".."):
        return text.replace(".", "%2E")
    return text


def query_pairs(name: str, value: Any) -> Iterable[tuple[str, str]]:
    """One parameter's ``name=value`` pairs; a list is repeated keys, ``None`` is omitted."""
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return [(name, scalar_text(item)) for item in value if item is not None]
    return [(name, scalar_text(value))]


# Text made only of characters that need no escaping is used as is: most names and values are,
# and ``quote`` costs a microsecond per call.
_QUERY_PLAIN = re.compile("[A-Za-z0-9" + re.escape(QUERY_VALUE) + "]*").fullmatch


def _query_text(text: str) -> str:
    return text if _QUERY_PLAIN(text) else quote(text, safe=QUERY_VALUE)


def encode_query(pairs: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{_query_text(k)}={_query_text(v)}" for k, v in pairs)


def header_value(name: str, value: Any) -> str:
    text = scalar_text(value)
    if "\r" in text or "\n" in text or "\0" in text:
        raise UnsafeValue(f"value for header {name!r} contains a line break")
    return text


def cookie_header(cookies: Mapping[str, Any]) -> str:
    """One ``Cookie`` header; values are percent-encoded, so ``;``, ``,``, spaces or line breaks in a
    value can neither split it into several cookies nor add a header."""
    return "; ".join(
        f"{name}={quote(scalar_text(value), safe=COOKIE_VALUE)}" for name, value in cookies.items()
    )


def join_url(base: str, path: str) -> str:
    """``baseUri`` + resource path with exactly one slash between them; base paths are kept."""
    if not path:
        return base
    if base.endswith("/"):
        base = base.rstrip("/")
    if path.startswith("?"):
        return base + path
    return f"{base}/{path.lstrip('/')}"
