"""Descriptions for agents: OpenAPI text (CommonMark, often with HTML in it) made plain and tidy.

HTML is parsed, never pattern-stripped (BeautifulSoup's ``html.parser``: a well-kept parser that
also copes with the truncated markup generated descriptions end with); Markdown is kept, since
agents read it well. Line breaks that separate paragraphs stay, runs of blanks do not.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache
from typing import Any

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

_TAG = re.compile(r"<[A-Za-z/!]")
_BLOCKS = ("p", "div", "pre", "li", "ul", "ol", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def plain(text: Any) -> str:
    """``text`` without HTML markup and with tidy whitespace; ``""`` for anything that is not text."""
    if not isinstance(text, str):
        return ""
    return _plain(text)


@lru_cache(maxsize=8192)
def _plain(text: str) -> str:
    """Descriptions repeat (a component's text at every use): each distinct one is tidied once."""
    if _TAG.search(text):
        text = _strip_html(text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _strip_html(text: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(text, "html.parser")
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(_BLOCKS):
        block.insert_before("\n")
        block.insert_after("\n")
    return soup.get_text()


def joined(*parts: str, separator: str = "\n\n") -> str:
    """The non-empty parts, each once, in order (a summary repeated as the description is said once)."""
    kept: list[str] = []
    for part in parts:
        part = part.strip()
        if part and not any(part == other or part in other for other in kept):
            kept.append(part)
    return separator.join(kept)


def sentence(text: str) -> str:
    """``text`` ending with a full stop (or the punctuation it already has)."""
    text = text.strip()
    return text if not text or text[-1] in ".!?:)`" else text + "."


def clipped(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"
