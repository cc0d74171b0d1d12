"""Decode an upstream answer by its operation's ``outputRawFormat`` into JSON-like data.

Whatever the format, the result is made of dict, list, str, int, float, bool and None only, ready
for JSONPath shaping; a body that is not valid in its format raises
:class:`~naftiko_runtime.errors.DecodeError` naming the operation, the format and what is wrong
(with a line/column or position where the format has one), never a parser traceback.

============  ==================================================================================
format        result
============  ==================================================================================
json          the parsed document (the default when no format is declared; orjson)
xml           the root element's content; see :mod:`~naftiko_runtime.consumes.formats.xml`
yaml          the parsed document, types kept; see :mod:`~naftiko_runtime.consumes.formats.yaml`
csv/tsv/psv   a list of row objects, all values strings; see :mod:`.formats.delimited`
html          ``{"tables": [[row, …], …]}``; ``output_schema`` is a CSS selector
markdown      ``{"frontMatter", "tables", "sections"}``; ``output_schema`` filters sections
text          the body as a string (charset from ``content_type``, UTF-8 by default)
avro          one binary record decoded with the ``.avsc`` file at ``output_schema``
============  ==================================================================================

An empty body (0 bytes or only whitespace) is ``None`` for json, xml and yaml (a 204 answer is not
an error), ``[]`` for the delimited formats, the empty structure for html and markdown and ``""``
for text. Format names are case-insensitive. ``protobuf`` is a format of the specification that
this runtime does not decode; see :data:`UNSUPPORTED_FORMATS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from naftiko_runtime.consumes.formats._common import FormatError
from naftiko_runtime.errors import DecodeError

__all__ = ["SUPPORTED_FORMATS", "UNSUPPORTED_FORMATS", "decode"]

Decoder = Callable[..., Any]

# format -> module of naftiko_runtime.consumes.formats whose DECODERS has it; imported on first use.
_MODULES: dict[str, str] = {
    "xml": "xml",
    "yaml": "yaml",
    "csv": "delimited",
    "tsv": "delimited",
    "psv": "delimited",
    "html": "html",
    "markdown": "markdown",
    "text": "text",
    "avro": "avro",
}

SUPPORTED_FORMATS: frozenset[str] = frozenset({"json", *_MODULES})
"""Every ``outputRawFormat`` :func:`decode` accepts (lower-case; matching is case-insensitive)."""

UNSUPPORTED_FORMATS: dict[str, str] = {
    "protobuf": (
        "protobuf decoding is not supported by this runtime: reading a message needs its .proto file "
        "compiled at run time, and Python has no well-kept pure-Python .proto compiler; "
        "have the upstream answer JSON, or put a service that converts in front of it"
    ),
}
"""Formats the specification knows that this runtime refuses, each with the reason it gives."""

_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError
_decoders: dict[str, Decoder] = {}


def decode(
    body: bytes,
    fmt: str | None,
    *,
    operation: str,
    content_type: str | None = None,
    output_schema: str | None = None,
    schema_dir: Path | None = None,
) -> Any:
    """Decode ``body`` as ``fmt`` (None means JSON) into JSON-like data.

    ``operation`` names the consumed operation in errors; ``content_type`` is the upstream's
    Content-Type (its charset is used by the text formats); ``output_schema`` is the operation's
    ``outputSchema`` (CSS selector for html, section heading prefix for markdown, ``.avsc`` path
    for avro), relative paths being resolved against ``schema_dir``.
    """
    if fmt is None or fmt == "json":  # the hot path: one comparison, then orjson
        if body:
            try:
                return _loads(body)
            except _JSONDecodeError as exc:
                return _json_retry(body, exc, operation, content_type)
        return None
    return _decode_other(body, fmt, operation, content_type, output_schema, schema_dir)


def _json_retry(body: bytes, exc: orjson.JSONDecodeError, operation: str, content_type: str | None) -> Any:
    """The slow path of JSON: tolerate what orjson refuses but is harmless, else explain the error."""
    stripped = body.strip()
    if not stripped:
        return None
    if stripped.startswith(b"\xef\xbb\xbf"):
        try:
            return _loads(stripped[3:])
        except _JSONDecodeError as retry:
            exc = retry
    reason = f"{exc.msg} at line {exc.lineno}, column {exc.colno} (byte {exc.pos})"
    hints = []
    if stripped[:1] == b"<":
        hints.append("the body looks like XML or HTML")
    if content_type and "json" not in content_type.lower():
        hints.append(f"the upstream sent Content-Type {content_type.split(';')[0].strip()!r}")
    if hints:
        reason += f" ({'; '.join(hints)}: is outputRawFormat right?)"
    raise DecodeError(operation, "json", reason) from None


def _decode_other(
    body: bytes,
    fmt: str,
    operation: str,
    content_type: str | None,
    output_schema: str | None,
    schema_dir: Path | None,
) -> Any:
    name = fmt.strip().lower()
    if name == "json":
        return decode(body, None, operation=operation, content_type=content_type)
    decoder = _decoders.get(name) or _load_decoder(name, fmt, operation)
    try:
        return decoder(
            bytes(body),
            content_type=content_type,
            output_schema=output_schema,
            schema_dir=schema_dir,
        )
    except FormatError as exc:
        raise DecodeError(operation, name, str(exc)) from None
    except DecodeError:
        raise
    except RecursionError:
        raise DecodeError(operation, name, "the document is nested too deeply") from None
    except Exception as exc:  # a parser's own exception type we did not anticipate: still no traceback
        raise DecodeError(operation, name, f"{type(exc).__name__}: {exc}") from None


def _load_decoder(name: str, fmt: str, operation: str) -> Decoder:
    if name in UNSUPPORTED_FORMATS:
        raise DecodeError(operation, name, UNSUPPORTED_FORMATS[name])
    module_name = _MODULES.get(name)
    if module_name is None:
        supported = ", ".join(sorted(SUPPORTED_FORMATS))
        raise DecodeError(operation, fmt, f"unknown outputRawFormat {fmt!r}; supported formats: {supported}")
    module = importlib.import_module(f"naftiko_runtime.consumes.formats.{module_name}")
    decoder: Decoder = module.DECODERS[name]
    _decoders[name] = decoder
    return decoder
