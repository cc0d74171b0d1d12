"""Markdown → ``{"frontMatter": {…}, "tables": [[…], …], "sections": [{heading, level, content}, …]}``.

* ``frontMatter``: the YAML mapping between a ``---`` first line and the next ``---`` (or ``...``)
  line; ``{}`` when there is none or it is not a mapping. Invalid YAML there is an error.
* ``tables``: every GFM table in document order, with the HTML table contract (row objects keyed
  by the header cells; missing cells ``""``; tables with only blank headers left out).
* ``sections``: one per heading (ATX ``#`` or setext), in document order: ``heading`` is the
  heading's text (without its ``#``s), ``level`` 1–6, ``content`` the text of the top-level blocks
  up to the next heading of any level, one line per paragraph or list item, code blocks verbatim,
  tables and raw HTML left out (tables are in ``tables``). Only headings at the top level of the
  document count (not inside lists or quotes), as in the reference engine.
* ``outputSchema`` filters sections by prefix. Written with its ``#``s (``## Results``) it is
  compared with the heading as written in Markdown, ``#``s and a space then the text, so it also
  fixes the level; written without (``Results``) it is compared with the heading text, as the
  reference engine does.

Parsing uses markdown-it-py (CommonMark with its GFM table rule), never regular expressions, so
escaped pipes, inline code and emphasis inside cells behave as on GitHub.
"""

from __future__ import annotations

import re
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from ._common import FormatError, make_rows, to_text
from .yaml import load_yaml

_FRONT_MATTER = re.compile(
    r"\A---[ \t]*\n(?P<yaml>.*?)^(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL | re.MULTILINE
)
_PARSER = MarkdownIt("commonmark").enable("table")
_TEXT_TOKENS = frozenset({"text", "text_special", "code_inline"})


def decode_markdown(
    body: bytes, *, content_type: str | None = None, output_schema: str | None = None, **_: Any
) -> dict[str, Any]:
    text = to_text(body, content_type, lenient=True).replace("\r\n", "\n").replace("\r", "\n")
    front_matter, text = split_front_matter(text)
    tokens = _PARSER.parse(text)
    return {
        "frontMatter": front_matter,
        "tables": _tables(tokens),
        "sections": _sections(tokens, output_schema),
    }


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    match = _FRONT_MATTER.match(text)
    if match is None:
        return {}, text
    try:
        data = load_yaml(match["yaml"])
    except FormatError as exc:
        raise FormatError(f"front matter is not valid YAML: {exc}") from None
    return (data if isinstance(data, dict) else {}), text[match.end() :]


def _inline_text(token: Token) -> str:
    parts = []
    for child in token.children or ():
        if child.type in _TEXT_TOKENS:
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "image":
            parts.append(child.content)  # its alt text
    return "".join(parts)


def _tables(tokens: list[Token]) -> list[list[dict[str, str]]]:
    tables = []
    headers: list[str] = []
    rows: list[list[str]] = []
    row: list[str] = []
    in_head = False
    for index, token in enumerate(tokens):
        kind = token.type
        if kind == "table_open":
            headers, rows = [], []
        elif kind == "thead_open":
            in_head = True
        elif kind == "thead_close":
            in_head = False
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and not in_head:
            rows.append(row)
        elif kind in ("th_open", "td_open"):
            inline = tokens[index + 1]
            cell = _inline_text(inline).strip() if inline.type == "inline" else ""
            (headers if in_head else row).append(cell)
        elif kind == "table_close" and any(headers):
            tables.append(make_rows(headers, rows))
    return tables


def _sections(tokens: list[Token], prefix: str | None) -> list[dict[str, Any]]:
    sections: list[dict[str, Any]] = []
    heading: dict[str, Any] | None = None
    lines: list[str] = []  # content lines of the current section
    block: list[str] = []  # lines of the current top-level block
    tables = 0  # depth inside tables, whose text belongs to "tables", not to sections

    def close() -> None:
        if heading is not None and _matches(heading, prefix):
            heading["content"] = "\n".join(lines).strip()
            sections.append(heading)

    for index, token in enumerate(tokens):
        kind = token.type
        if kind == "table_open":
            tables += 1
        elif kind == "table_close":
            tables -= 1
        elif token.level == 0 and kind == "heading_open":
            close()
            text = _inline_text(tokens[index + 1]).strip()
            heading, lines = {"heading": text, "level": int(token.tag[1:]), "content": ""}, []
        elif heading is None or tables or kind.startswith("heading_"):
            continue
        elif token.level == 0 and token.nesting == 1:
            block = []
        elif token.level == 0 and token.nesting == -1:
            lines.extend(line for line in block if line.strip())
        elif kind == "inline":
            opener = tokens[index - 1]
            if not (opener.type == "heading_open" and opener.level == 0):  # the heading itself
                block.append(_inline_text(token).strip())
        elif kind in ("fence", "code_block"):
            (lines if token.level == 0 else block).append(token.content.rstrip("\n"))
    close()
    return sections


def _matches(section: dict[str, Any], prefix: str | None) -> bool:
    if not prefix or not prefix.strip():
        return True
    if prefix.startswith("#"):
        return f"{'#' * section['level']} {section['heading']}".startswith(prefix)
    return bool(section["heading"].startswith(prefix))


DECODERS = {"markdown": decode_markdown}
