"""What every format decoder shares: the error it raises and how bytes become text."""

from __future__ import annotations

import codecs
from functools import lru_cache


class FormatError(ValueError):
    """The body is not valid in the declared format.

    Format decoders raise this with a short reason and know nothing of operations;
    :func:`naftiko_runtime.consumes.decoding.decode` turns it into a
    :class:`~naftiko_runtime.errors.DecodeError` naming the operation and the format.
    """


@lru_cache(maxsize=64)
def charset_of(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header, lower-cased, if it names a known codec."""
    if not content_type:
        return None
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'").lower()
            if not charset:
                return None
            try:
                codecs.lookup(charset)
            except LookupError:
                return None  # an unknown charset is ignored rather than failing the call
            return charset
    return None


def to_text(body: bytes, content_type: str | None, *, lenient: bool) -> str:
    """Decode ``body`` with the charset of ``content_type`` (UTF-8 when it names none).

    Data formats (YAML, CSV…) decode strictly, so that a body in the wrong encoding fails loudly
    instead of producing silently garbled values; document formats (HTML, Markdown, text) use
    replacement characters, as a browser would. A leading byte order mark is dropped.
    """
    charset = charset_of(content_type) or "utf-8"
    try:
        text = body.decode(charset, "replace" if lenient else "strict")
    except UnicodeDecodeError as exc:
        bad = exc.object[exc.start : exc.start + 1].hex()
        raise FormatError(f"the body is not valid {charset}: byte 0x{bad} at offset {exc.start}") from None
    return text.removeprefix("\ufeff")


def make_rows(headers: list[str], rows: list[list[str]]) -> list[dict[str, str]]:
    """Row objects keyed by ``headers``: missing cells ``""``, extra cells dropped."""
    width = len(headers)
    table = []
    for values in rows:
        if len(values) < width:
            values = values + [""] * (width - len(values))
        table.append(dict(zip(headers, values, strict=False)))
    return table
