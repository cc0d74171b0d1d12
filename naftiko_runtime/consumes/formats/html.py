"""HTML tables → ``{"tables": [[{header: cell, …}, …], …]}``.

The table contract (shared with Markdown):

* ``outputSchema``, when set, is a CSS selector: matched ``<table>`` elements are taken as they
  are, any other matched element contributes the tables inside it. Without it every table of the
  page is taken, in document order (nested tables included, each as a table of its own).
* Headers come from the first row of ``<thead>`` when it has ``<th>`` cells, else from the
  ``<th>`` cells of the table's first row, else from that row's ``<td>`` cells (a header-less
  table whose first row names the columns). Tables without any non-blank header are left out.
* The header row is not data; nor is any other row made only of ``<th>`` cells. A row mixing
  ``<th>`` and ``<td>`` (a row header) is data, its cells taken in order.
* Missing cells are ``""``; cells beyond the headers are dropped; ``colspan`` is not expanded.
* Cell text has its whitespace collapsed; ``<br>`` and block elements separate words; scripts,
  styles and comments are not text.

The page is parsed with the standard library parser (``html.parser``), which does not apply HTML's
implied end tags. Because real pages do leave ``</td>``, ``</th>`` and ``</tr>`` out, the tree is
repaired after parsing so that such cells and rows become siblings rather than nested elements.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import soupsieve
from bs4 import BeautifulSoup
from bs4.element import CData, NavigableString, Tag

from ._common import FormatError, make_rows, to_text

_CELLS = ("td", "th")
_SECTIONS = ("thead", "tbody", "tfoot")
_WORD_BREAKS = frozenset(
    {"br", "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "tr", "table", "blockquote", "pre", "hr"}
    | {f"h{level}" for level in range(1, 7)}
)


def decode_html(
    body: bytes, *, content_type: str | None = None, output_schema: str | None = None, **_: Any
) -> dict[str, Any]:
    soup = BeautifulSoup(to_text(body, content_type, lenient=True), "html.parser")
    _repair_implied_end_tags(soup)
    tables = [table_rows(table) for table in _select_tables(soup, output_schema)]
    return {"tables": [rows for rows in tables if rows is not None]}


def table_rows(table: Tag) -> list[dict[str, str]] | None:
    """The row objects of one table, or None when it has no usable header."""
    rows = [row for row in _tags(table, ("tr",)) if _nearest(row, ("table",)) is table]
    header_row: Tag | None = None
    headers: list[str] = []
    head_rows = [row for row in rows if row.parent is not None and row.parent.name == "thead"]
    if head_rows:
        header_cells = [cell for cell in _cells(head_rows[0]) if cell.name == "th"]
        if header_cells:
            header_row, headers = head_rows[0], [cell_text(cell) for cell in header_cells]
    if header_row is None and rows:
        first, cells = rows[0], _cells(rows[0])
        header_cells = [cell for cell in cells if cell.name == "th"] or cells
        header_row, headers = first, [cell_text(cell) for cell in header_cells]
    if not any(headers):
        return None
    return make_rows(headers, _data_rows(rows, header_row))


def cell_text(element: Tag) -> str:
    """The element's text with whitespace collapsed, as a reader would see it."""
    parts: list[str] = []
    for node in element.descendants:
        if isinstance(node, Tag):
            if node.name in _WORD_BREAKS:
                parts.append(" ")
        elif type(node) is NavigableString or type(node) is CData:
            parts.append(node)
    return " ".join("".join(parts).split())


def _data_rows(rows: list[Tag], header_row: Tag | None) -> list[list[str]]:
    data = []
    for row in rows:
        if row is header_row:
            continue
        cells = _cells(row)
        if not cells or all(cell.name == "th" for cell in cells):
            continue
        data.append([cell_text(cell) for cell in cells])
    return data


@lru_cache(maxsize=128)
def _compiled(selector: str) -> Any:
    return soupsieve.compile(selector)


def _select_tables(soup: BeautifulSoup, selector: str | None) -> list[Tag]:
    if not selector or not selector.strip():
        return _tags(soup, ("table",))
    try:
        compiled = _compiled(selector)
    except soupsieve.SelectorSyntaxError as exc:
        first_line = str(exc).splitlines()[0]
        raise FormatError(f"outputSchema {selector!r} is not a valid CSS selector: {first_line}") from None
    tables: list[Tag] = []
    seen: set[int] = set()
    for element in compiled.select(soup):
        found = [element] if element.name == "table" else _tags(element, ("table",))
        for table in found:
            if id(table) not in seen:
                seen.add(id(table))
                tables.append(table)
    return tables


def _repair_implied_end_tags(soup: BeautifulSoup) -> None:
    """Un-nest cells, rows and row groups that ``html.parser`` nested for lack of end tags.

    ``<tr><td>1<td>2`` parses as a ``td`` inside a ``td``: a cell whose nearest table-structure
    ancestor is another cell is moved to just after that cell; likewise a row inside a row, and a
    row group inside a row group. Elements are visited in document order, so a run of unclosed
    cells unfolds left to right. Nested tables are untouched: a ``<table>`` ancestor stops the walk.
    """
    stops: tuple[str, ...]
    closes: tuple[str, ...]
    for element in _tags(soup, (*_CELLS, "tr", *_SECTIONS)):
        if element.name in _CELLS:
            stops, closes = ("td", "th", "tr", "table"), _CELLS
        elif element.name == "tr":
            stops, closes = ("tr", "table"), ("tr",)
        else:
            stops, closes = (*_SECTIONS, "table"), _SECTIONS
        ancestor = _nearest(element, stops)
        if ancestor is not None and ancestor.name in closes:
            ancestor.insert_after(element)


def _tags(root: Tag, names: tuple[str, ...]) -> list[Tag]:
    """Descendant elements named ``names``, in document order (bs4's find_all is much slower)."""
    return [node for node in root.descendants if isinstance(node, Tag) and node.name in names]


def _cells(row: Tag) -> list[Tag]:
    return [node for node in row.children if isinstance(node, Tag) and node.name in _CELLS]


def _nearest(element: Tag, names: tuple[str, ...]) -> Tag | None:
    """The closest ancestor named ``names``."""
    parent = element.parent
    while parent is not None and parent.name not in names:
        parent = parent.parent
    return parent


DECODERS = {"html": decode_html}
