"""What each part of a URL may carry unencoded: every ``quote(..., safe=...)`` set, decided here.

They differ on purpose; each says why. RFC 3986 is the base: ``unreserved`` (letters, digits and
``-._~``), ``sub-delims`` (``!$&'()*+,;=``) and ``pchar`` (those two, ``:`` and ``@``).
"""

from __future__ import annotations

PCHAR = "-._~!$&'()*+,;=:@"
"""One path segment as a client wrote it, passed on as it is (a ``forward`` resource's tail)."""

LITERAL_PATH = "/" + PCHAR + "%"
"""A whole path as the document or the client wrote it: segments, separators and ``%XX`` escapes
already there (route tables compare raw paths)."""

URL_TEXT = "-._~:/?#[]@!$&'()*+,;=%"
"""A document's own URL text (``baseUri`` + path): every URL delimiter keeps its meaning; only what
may not appear raw in a request line (a space) is encoded."""

PARAMETER_SEGMENT = "-._~!$&'()*,=:@"
"""A parameter value placed in a path segment. ``;`` is encoded (servlet containers and Spring strip
``;...`` path parameters from a segment) and so is ``+`` (some servers decode it as a space there)."""

QUERY_VALUE = "-._~!$'()*,:@/?"
"""A query name or value. ``&``, ``=``, ``+`` and ``;`` are encoded: they split or change pairs (Go
1.17+ drops a pair holding a raw ``;``)."""

COOKIE_VALUE = "-._~!$&'()*+/:=?@"
"""RFC 6265 cookie-octets that need no encoding (no space, ``"``, ``,``, ``;`` or ``\\``)."""
