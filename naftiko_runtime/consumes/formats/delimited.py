"""CSV, TSV and PSV → a list of row objects keyed by the header row.

As in the reference engine every value is a string (``"id": "1"``): a delimited file carries no
types, and guessing them (is ``007`` a number? is ``1e3``?) would corrupt identifiers.

Tolerances: a byte order mark, CRLF or LF line ends, quoted fields with embedded delimiters,
quotes (``""``) and line breaks, blank lines anywhere (skipped), surrounding spaces around header
names (trimmed), rows shorter than the header (missing cells are ``""``) and empty cells past the
last header (a trailing delimiter). A row with non-empty cells past the header, or a quoting
error, is refused with its line number. When two header cells have the same name the last
column wins.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from ._common import FormatError, to_text


def _decoder(delimiter: str) -> Any:
    def decode_delimited(body: bytes, *, content_type: str | None = None, **_: Any) -> list[dict[str, str]]:
        return parse_delimited(to_text(body, content_type, lenient=False), delimiter)

    return decode_delimited


def parse_delimited(text: str, delimiter: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    width = 0
    rows: list[dict[str, str]] = []
    try:
        for cells in reader:
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # blank line
            if header is None:
                header = [name.strip() for name in cells]
                width = len(header)
                continue
            if len(cells) < width:
                cells.extend([""] * (width - len(cells)))
            elif len(cells) > width and any(cells[width:]):
                raise FormatError(
                    f"line {reader.line_num}: the row has {len(cells)} fields but the header has {width}"
                )
            rows.append(dict(zip(header, cells, strict=False)))
    except csv.Error as exc:
        raise FormatError(f"line {reader.line_num}: {exc}") from None
    return rows


DECODERS = {"csv": _decoder(","), "tsv": _decoder("\t"), "psv": _decoder("|")}
