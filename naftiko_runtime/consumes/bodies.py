"""Request bodies, compiled once per consumed operation and rendered per call by content type.

A value inserted into JSON is JSON (``"crewIds": {{crewIds}}`` becomes an array, a quote inside a
string stays escaped); text, XML and SPARQL bodies are text; form bodies are URL-encoded; multipart
bodies are real multipart.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote_plus

import orjson

from ..expressions import compile_template
from ..expressions.json_template import compile_json_data, compile_json_text
from ..spec.models import BodyForm, BodyJson, BodyMultipart, BodyRaw, BodyText, RequestBody
from .encoding import encode_query, scalar_text

RenderedBody = tuple[bytes, str]
BodyRenderer = Callable[[Mapping[str, Any]], RenderedBody]

_TEXT_TYPES = {
    "text": "text/plain; charset=utf-8",
    "xml": "application/xml",
    "sparql": "application/sparql-query",
}
_JSON = "application/json"


def compile_body(spec: RequestBody) -> BodyRenderer:
    """A function from the request's template context to ``(bytes, content type)``."""
    if isinstance(spec, BodyJson):
        if isinstance(spec.data, str):
            return _json_text(spec.data)
        structure = compile_json_data(spec.data)
        return lambda context: (orjson.dumps(structure(context)), _JSON)
    if isinstance(spec, BodyRaw):
        # "Interpreted as JSON by default": a raw body that reads as JSON is rendered JSON-aware;
        # any other text (a greeting, a query) is sent as text, values inserted as written.
        if spec.data.lstrip()[:1] in ("{", "["):
            return _json_text(spec.data)
        template = compile_template(spec.data)
        return lambda context: (template.render(context).encode(), _TEXT_TYPES["text"])
    if isinstance(spec, BodyText):
        template = compile_template(spec.data)
        media = _TEXT_TYPES[spec.type]
        return lambda context: (template.render(context).encode(), media)
    if isinstance(spec, BodyForm):
        return _form(spec.data)
    if isinstance(spec, BodyMultipart):
        return _multipart(spec)
    raise TypeError(f"unknown body kind {spec!r}")  # pragma: no cover - the models are a closed union


def _json_text(text: str) -> BodyRenderer:
    """JSON text with placeholders: rendered from its structure (an unset member is left out), or,
    when it is not JSON around its placeholders, as text that stays valid JSON where it can."""
    compiled = compile_json_text(text)
    if compiled is not None:
        return lambda context: (compiled.render_bytes(context), _JSON)
    template = compile_template(text)
    return lambda context: (template.render_json(context).encode(), _JSON)


def _form(data: str | dict[str, Any]) -> BodyRenderer:
    media = "application/x-www-form-urlencoded"
    if isinstance(data, str):
        written = _form_pairs(data)
        if written is None:
            template = compile_template(data)
            return lambda context: (template.render(context).encode(), media)
    else:
        written = [(str(key), value) for key, value in data.items()]
    # Each field is built as data and encoded once; a field whose value is unset is left out.
    fields = [(key, compile_json_data(value)) for key, value in written]

    def render(context: Mapping[str, Any]) -> RenderedBody:
        pairs = []
        for key, build in fields:
            value = build(context)
            if value is None:
                continue
            values = value if isinstance(value, list) else [value]
            pairs.extend((key, scalar_text(v)) for v in values)
        return encode_query(pairs).encode(), media

    return render


def _form_pairs(text: str) -> list[tuple[str, Any]] | None:
    """``a=1&b={{b}}`` as decoded ``(name, value template)`` pairs; ``None`` if it is not that shape."""
    pairs = []
    for piece in text.strip().split("&"):
        name, sep, value = piece.partition("=")
        if not sep or not name or "{{" in name:
            return None
        pairs.append((unquote_plus(name), unquote_plus(value)))
    return pairs


def _multipart(spec: BodyMultipart) -> BodyRenderer:
    parts = [(part, compile_json_data(part.value)) for part in spec.data]

    def render(context: Mapping[str, Any]) -> RenderedBody:
        boundary = "naftiko-" + os.urandom(12).hex()
        chunks: list[bytes] = []
        for part, build in parts:
            value = build(context)
            content = value if isinstance(value, bytes) else scalar_text(value).encode()
            disposition = f'form-data; name="{_quote(part.name)}"'
            if part.filename:
                disposition += f'; filename="{_quote(part.filename)}"'
            head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
            if part.content_type or part.filename:
                head += f"Content-Type: {part.content_type or 'application/octet-stream'}\r\n"
            chunks.append(head.encode() + b"\r\n" + content + b"\r\n")
        chunks.append(f"--{boundary}--\r\n".encode())
        return b"".join(chunks), f"multipart/form-data; boundary={boundary}"

    return render


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "")
