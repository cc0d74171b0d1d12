"""XML → JSON-like data.

The shape follows the reference engine (Jackson's ``XmlMapper.readTree``) where it is sound:

* the root element is dropped: the document decodes to the *content* of the root element;
* attributes become plain fields; element text becomes a string (every leaf is a string, an
  empty element is ``""``);
* namespace prefixes are stripped, so ``<ns:item>`` and ``ns:id="…"`` become ``item`` and ``id``;
* comments and processing instructions are ignored.

Two decisions differ from the reference engine or fill its gaps:

* **Repeated elements are arrays everywhere.** An element that repeats under its parent becomes a
  list, and every other occurrence of the same element *path* (names from the root down) becomes
  a list too, even with a single member. The reference engine turns a single ``<vessel>`` into an
  object and two into an array, so a mapping like ``$.vessel[*]`` breaks on the day the upstream
  returns one result; here the document's own repetitions decide, consistently for the whole
  document.
* **Text next to attributes or child elements** is kept under :data:`TEXT_KEY` (``"#text"``),
  trimmed; e.g. ``<price currency="EUR">9.5</price>`` → ``{"currency": "EUR", "#text": "9.5"}``,
  read with ``$.price['#text']``. ``#`` cannot occur in an XML name, so the key never collides
  with an attribute or an element. An attribute whose name collides with a child element keeps
  the element under its name and moves the attribute to :data:`ATTRIBUTE_PREFIX` + name (``@id``).

Parsing goes through ``defusedxml``: DTD entity declarations (the "billion laughs" expansion
attack) and external entities/DTDs are refused with an error; a plain ``<!DOCTYPE>`` is accepted.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element
from xml.parsers.expat import ErrorString

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import ParseError, fromstring

from ._common import FormatError, charset_of

TEXT_KEY = "#text"
"""Key holding an element's own text when it also has attributes or child elements."""

ATTRIBUTE_PREFIX = "@"
"""Prefix given to an attribute whose name is also the name of a child element."""

MAX_DEPTH = 256
"""Deepest element nesting accepted; deeper documents are refused rather than crashing the decoder."""


def decode_xml(body: bytes, *, content_type: str | None = None, **_: Any) -> Any:
    if not body.strip():
        return None
    try:
        root = fromstring(_as_parser_input(body, content_type))
    except (ParseError, DefusedXmlException) as exc:
        raise FormatError(describe_error(exc)) from None
    repeated = _repeated_paths(root)
    value = _element_value(root, (), repeated)
    # "The root's children form the top object": an empty root is an empty object, not "".
    return {} if value == "" else value


def describe_error(exc: ParseError | DefusedXmlException) -> str:
    """A one-line reason for what the parser refused."""
    if isinstance(exc, EntitiesForbidden):
        return (
            f"the document declares an entity ({exc.name!r}); entity declarations are refused "
            "because their expansion can exhaust memory (billion laughs)"
        )
    if isinstance(exc, ExternalReferenceForbidden):
        return f"the document refers to an external resource ({exc.sysid!r}), which is refused"
    if isinstance(exc, DTDForbidden):
        return "the document has a DTD, which is refused"
    if isinstance(exc, DefusedXmlException):
        return f"unsafe XML refused: {exc}"
    line, column = exc.position
    return f"{ErrorString(exc.code)} at line {line}, column {column + 1}"  # expat counts columns from 0


def _as_parser_input(body: bytes, content_type: str | None) -> bytes | str:
    """Let the XML declaration decide the encoding, unless the body has none and the header names one."""
    charset = charset_of(content_type)
    if charset and charset not in ("utf-8", "utf8") and not body.lstrip().startswith(b"<?xml"):
        try:
            return body.decode(charset)
        except UnicodeDecodeError as exc:
            raise FormatError(
                f"the body is not valid {charset}: {exc.reason} at offset {exc.start}"
            ) from None
    return body


def _local(name: str) -> str:
    return name.rpartition("}")[2] if name[:1] == "{" else name


def _repeated_paths(root: Element) -> set[tuple[str, ...]]:
    """Every element path (tuple of local names below the root) that repeats under some parent."""
    repeated: set[tuple[str, ...]] = set()
    stack: list[tuple[Element, tuple[str, ...], int]] = [(root, (), 0)]
    while stack:
        element, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise FormatError(f"elements are nested deeper than {MAX_DEPTH} levels")
        seen: set[str] = set()
        for child in element:
            name = _local(child.tag)
            child_path = (*path, name)
            if name in seen:
                repeated.add(child_path)
            else:
                seen.add(name)
            stack.append((child, child_path, depth + 1))
    return repeated


def _element_value(element: Element, path: tuple[str, ...], repeated: set[tuple[str, ...]]) -> Any:
    children = list(element)
    attributes = element.attrib
    if not children and not attributes:
        return element.text or ""

    obj: dict[str, Any] = {}
    child_names = {_local(child.tag) for child in children}
    for raw_name, value in attributes.items():
        name = _local(raw_name)
        obj[ATTRIBUTE_PREFIX + name if name in child_names else name] = value

    for child in children:
        name = _local(child.tag)
        child_path = (*path, name)
        value = _element_value(child, child_path, repeated)
        if child_path in repeated:
            bucket = obj.get(name)
            if bucket is None:
                obj[name] = [value]
            else:
                bucket.append(value)
        else:
            obj[name] = value

    text = element.text or ""
    if children:
        text += "".join(child.tail or "" for child in children)
    text = text.strip()
    if text:
        obj[TEXT_KEY] = text
    return obj


DECODERS = {"xml": decode_xml}
