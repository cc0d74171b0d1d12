"""Request bodies, compiled once per consumed operation and rendered per call by content type.

A body is built as data and serialised by its content type, so that no value can change its
structure: a value inserted into JSON is JSON (``"crewIds": {{crewIds}}`` becomes an array, a quote
inside a string stays escaped); an XML body is parsed once into its elements, attributes and text,
and a value is always character data, escaped (``<`` or ``&`` in a value never makes markup); a
form body's values are URL-encoded one by one (an ``&`` in a value adds no field); multipart bodies
are real multipart, filenames rendered too; a part or field whose value is unset is left out.
Text and SPARQL bodies are text.

Bind variables are fixed when the body is compiled (:func:`~naftiko_runtime.spec.variables.fix_binds`):
the context a body renders over holds the caller's values only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote_plus
from xml.dom import Node, minidom
from xml.parsers.expat import ExpatError

import orjson

from ..errors import NaftikoError
from ..expressions import Template, compile_template
from ..expressions.json_template import Compile, compile_json_data, compile_json_text
from ..spec.models import BodyForm, BodyJson, BodyMultipart, BodyRaw, BodyText, RequestBody
from ..spec.variables import BindNames, fix_binds
from .encoding import encode_query, scalar_text

RenderedBody = tuple[bytes, str]
BodyRenderer = Callable[[Mapping[str, Any]], RenderedBody]

_TEXT_TYPES = {
    "text": "text/plain; charset=utf-8",
    "xml": "application/xml",
    "sparql": "application/sparql-query",
}
_JSON = "application/json"


class BodyTemplateError(NaftikoError):
    """A body that cannot be compiled (an XML body that is not well-formed XML)."""


def compile_body(spec: RequestBody, binds: BindNames) -> BodyRenderer:
    """A function from the request's template context to ``(bytes, content type)``."""

    def template(text: str) -> Template:
        return fix_binds(compile_template(text), binds)

    if isinstance(spec, BodyJson):
        if isinstance(spec.data, str):
            return _json_text(spec.data, template)
        structure = compile_json_data(spec.data, template)
        return lambda context: (orjson.dumps(structure(context)), _JSON)
    if isinstance(spec, BodyRaw):
        # "Interpreted as JSON by default": a raw body that reads as JSON is rendered JSON-aware;
        # any other text (a greeting, a query) is sent as text, values inserted as written.
        if spec.data.lstrip()[:1] in ("{", "["):
            return _json_text(spec.data, template)
        text = template(spec.data)
        return lambda context: (text.render(context).encode(), _TEXT_TYPES["text"])
    if isinstance(spec, BodyText):
        if spec.type == "xml":
            return _xml(spec.data, template)
        text = template(spec.data)
        media = _TEXT_TYPES[spec.type]
        return lambda context: (text.render(context).encode(), media)
    if isinstance(spec, BodyForm):
        return _form(spec.data, template)
    if isinstance(spec, BodyMultipart):
        return _multipart(spec, template)
    raise TypeError(f"unknown body kind {spec!r}")  # pragma: no cover - the models are a closed union


def _json_text(text: str, template: Compile) -> BodyRenderer:
    """JSON text with placeholders: rendered from its structure (an unset member is left out), or,
    when it is not JSON around its placeholders, as text that stays valid JSON where it can."""
    compiled = compile_json_text(text, template)
    if compiled is not None:
        return lambda context: (compiled.render_bytes(context), _JSON)
    whole = template(text)
    return lambda context: (whole.render_json(context).encode(), _JSON)


def _form(data: str | dict[str, Any], template: Compile) -> BodyRenderer:
    media = "application/x-www-form-urlencoded"
    if isinstance(data, str):
        written = _form_pairs(data)
        if written is None:
            whole = template(data)
            return lambda context: (whole.render(context).encode(), media)
    else:
        written = [(str(key), value) for key, value in data.items()]
    # Each field is built as data and encoded once; a field whose value is unset is left out.
    fields = [(key, compile_json_data(value, template)) for key, value in written]

    def render(context: Mapping[str, Any]) -> RenderedBody:
        pairs: list[tuple[str, str]] = []
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


def _multipart(spec: BodyMultipart, template: Compile) -> BodyRenderer:
    parts = [
        (part, compile_json_data(part.value, template), template(part.filename) if part.filename else None)
        for part in spec.data
    ]

    def render(context: Mapping[str, Any]) -> RenderedBody:
        boundary = "naftiko-" + os.urandom(12).hex()
        chunks: list[bytes] = []
        for part, build, filename in parts:
            value = build(context)
            if value is None:
                continue  # an unset optional input is not sent, as in a form
            content = value if isinstance(value, bytes) else scalar_text(value).encode()
            disposition = f'form-data; name="{_quote(part.name)}"'
            if filename is not None:
                disposition += f'; filename="{_quote(filename.render(context))}"'
            head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
            if part.content_type or part.filename:
                head += f"Content-Type: {part.content_type or 'application/octet-stream'}\r\n"
            chunks.append(head.encode() + b"\r\n" + content + b"\r\n")
        chunks.append(f"--{boundary}--\r\n".encode())
        return b"".join(chunks), f"multipart/form-data; boundary={boundary}"

    return render


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "")


# -- XML ---------------------------------------------------------------------------------------------

# Characters XML 1.0 cannot carry at all (not even escaped): replaced, so a value cannot break the body.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
)
_DECLARATION = re.compile(r"\s*<\?xml[^>]*\?>")


def _escape_text(text: str) -> str:
    return _XML_INVALID.sub("\ufffd", text).translate(_TEXT_ESCAPES)


def _escape_attribute(text: str) -> str:
    return _XML_INVALID.sub("\ufffd", text).translate(_ATTRIBUTE_ESCAPES)


def _escape_cdata(text: str) -> str:
    return _XML_INVALID.sub("\ufffd", text).replace("]]>", "]]]]><![CDATA[>")


def _xml(text: str, template: Compile) -> BodyRenderer:
    """The document's XML parsed once into markup and value slots; a value is always character data."""
    try:
        document = minidom.parseString(text.encode("utf-8"))
    except ExpatError as exc:
        raise BodyTemplateError(f"the XML body is not well-formed XML: {exc}") from None
    pieces: list[str | tuple[Template, Callable[[str], str]]] = []
    declaration = _DECLARATION.match(text)
    if declaration:
        pieces.append(declaration.group(0).strip())

    def data(value: str, escape: Callable[[str], str]) -> None:
        compiled = template(value)
        pieces.append(escape(value) if compiled.is_literal else (compiled, escape))

    def emit(node: Any) -> None:
        kind = node.nodeType
        if kind == Node.ELEMENT_NODE:
            pieces.append("<" + node.tagName)
            for name, value in node.attributes.items():
                pieces.append(f' {name}="')
                data(value, _escape_attribute)
                pieces.append('"')
            if not node.childNodes:
                pieces.append("/>")
                return
            pieces.append(">")
            for child in node.childNodes:
                emit(child)
            pieces.append(f"</{node.tagName}>")
        elif kind == Node.TEXT_NODE:
            data(node.data, _escape_text)
        elif kind == Node.CDATA_SECTION_NODE:
            pieces.append("<![CDATA[")
            data(node.data, _escape_cdata)
            pieces.append("]]>")
        else:  # comments, processing instructions, doctype: markup of the document's own
            pieces.append(node.toxml())

    for child in document.childNodes:
        emit(child)
    plan: list[str | tuple[Template, Callable[[str], str]]] = []
    for piece in pieces:  # adjacent markup joined once
        if isinstance(piece, str) and plan and isinstance(plan[-1], str):
            plan[-1] += piece
        else:
            plan.append(piece)
    media = _TEXT_TYPES["xml"]

    def render(context: Mapping[str, Any]) -> RenderedBody:
        out = [piece if isinstance(piece, str) else piece[1](piece[0].render(context)) for piece in plan]
        return "".join(out).encode("utf-8"), media

    return render
