"""``text``: the body as a string, decoded with the Content-Type charset (UTF-8 by default).

Undecodable bytes become U+FFFD rather than an error: a text answer is for reading.
"""

from __future__ import annotations

from typing import Any

from ._common import to_text


def decode_text(body: bytes, *, content_type: str | None = None, **_: Any) -> str:
    return to_text(body, content_type, lenient=True)


DECODERS = {"text": decode_text}
