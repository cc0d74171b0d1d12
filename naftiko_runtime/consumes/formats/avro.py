"""Avro → JSON-like data: ONE binary-encoded record, read with the writer's ``.avsc`` schema.

``outputSchema`` names the schema file, relative to ``schema_dir`` (the capability document's
folder) unless absolute; parsed schemas are cached per file and re-read when the file changes. As
in the reference engine the body is a single record in Avro's binary encoding, without the object
container header; bytes left over after the record mean the schema does not describe the data,
and are refused.

Avro values JSON cannot carry are converted: ``bytes``/``fixed`` to base64 text, logical types
(timestamps, dates, times) to ISO 8601 strings, ``decimal`` to its exact decimal string, ``uuid``
to its text.
"""

from __future__ import annotations

import base64
import io
import json
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from ._common import FormatError

_SCHEMAS: dict[Path, tuple[int, Any]] = {}


def decode_avro(
    body: bytes, *, output_schema: str | None = None, schema_dir: Path | None = None, **_: Any
) -> Any:
    try:
        from fastavro import schemaless_reader
    except ImportError:  # pragma: no cover - fastavro is a dependency
        raise FormatError("Avro decoding needs the 'fastavro' package, which is not installed") from None
    if not output_schema:
        raise FormatError("avro needs outputSchema: the path of the record's .avsc schema file")
    schema = _schema(_schema_path(output_schema, schema_dir), output_schema)
    buffer = io.BytesIO(body)
    try:
        record = schemaless_reader(buffer, schema)
    except EOFError as exc:
        raise FormatError(
            f"the body ends before a whole record of schema {output_schema!r} was read ({exc or 'no data'})"
        ) from None
    except (ValueError, TypeError, IndexError, KeyError, UnicodeDecodeError) as exc:
        raise FormatError(f"the body is not a record of schema {output_schema!r}: {exc}") from None
    left = len(body) - buffer.tell()
    if left:
        raise FormatError(
            f"{left} byte(s) remain after the record: the data does not match schema {output_schema!r}"
        )
    return _json_like(record)


def _schema_path(output_schema: str, schema_dir: Path | None) -> Path:
    path = Path(output_schema)
    if not path.is_absolute() and schema_dir is not None:
        path = Path(schema_dir) / path
    return path


def _schema(path: Path, name: str) -> Any:
    from fastavro import parse_schema

    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        raise FormatError(f"the Avro schema file {name!r} was not found (looked at {path})") from None
    cached = _SCHEMAS.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        parsed = parse_schema(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise FormatError(f"the Avro schema file {name!r} is not a valid schema: {exc}") from None
    _SCHEMAS[path] = (mtime, parsed)
    return parsed


def _json_like(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json_like(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_like(item) for item in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


DECODERS = {"avro": decode_avro}
