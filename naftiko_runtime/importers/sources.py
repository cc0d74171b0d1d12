"""Reading a description: a file or an http(s) URL, JSON or YAML, with positions for diagnostics.

YAML goes through the same reader as capability documents (:func:`~naftiko_runtime.spec.source.
parse_yaml`: libyaml, dates kept as text, keys as strings, alias bombs refused, syntax errors
located, and positions kept so diagnostics name a line); JSON through orjson. Documents named by
``$ref`` are read the same way (see :mod:`.refs`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urlsplit

import httpx
import orjson

from ..spec.source import DocPath, Source, YamlSyntaxError, parse_yaml
from .diagnostics import ImportFailed

MAX_BYTES = 64 * 1024 * 1024
TIMEOUT_S = 30.0


@dataclass
class Loaded:
    """A parsed description: its data, its absolute URI, and (YAML) where each of its nodes is."""

    data: Any
    uri: str
    label: str  # the file or URL as the user would recognise it
    _positions: Source | None = field(default=None, repr=False)

    def position(self, where: str) -> tuple[str, int, int]:
        """``(file, line, column)`` of the JSON pointer ``where`` in a YAML description (JSON ones,
        often on one line, are named by the pointer alone: reading them again for lines would cost
        more than the whole import)."""
        if self._positions is None:
            return self.label, 0, 0
        line, column = self._positions.position(_doc_path(where, self._positions))
        return self.label, line, column


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def load_source(source: str, client: httpx.Client | None = None) -> Loaded:
    """Read ``source`` (a path, a ``file:`` URI or an http(s) URL); :class:`ImportFailed` says why not."""
    if is_url(source):
        return _parse(_download(source, client), source, source)
    path = _file_path(source)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ImportFailed(f"{source}: no such file") from None
    except IsADirectoryError:
        raise ImportFailed(f"{source}: is a directory, not an OpenAPI description") from None
    except OSError as exc:
        raise ImportFailed(f"{source}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise ImportFailed(f"{source}: larger than {MAX_BYTES // 2**20} MiB")
    return _parse(_decode(raw, source), path.resolve().as_uri(), source)


def retriever(root_uri: str, client: httpx.Client | None = None) -> Callable[[str], Loaded]:
    """Reads documents that ``$ref`` names. A description fetched over HTTP may only name other
    http(s) documents: it must not make the importer read files of the machine it runs on."""
    remote_root = is_url(root_uri)
    cache: dict[str, Loaded] = {}

    def retrieve(uri: str) -> Loaded:
        uri = urldefrag(uri).url
        found = cache.get(uri)
        if found is None:
            if is_url(uri):
                found = _parse(_download(uri, client), uri, uri)
            elif uri.startswith("file:") and not remote_root:
                found = load_source(uri)
            else:
                raise ImportFailed(f"{uri}: only http(s) documents may be referenced from {root_uri}")
            cache[uri] = found
        return found

    return retrieve


def _file_path(source: str) -> Path:
    if source.startswith("file:"):
        parts = urlsplit(source)
        return Path(unquote(parts.path))
    return Path(source)


def _download(url: str, client: httpx.Client | None) -> str:
    owned = client is None
    http = client or httpx.Client(follow_redirects=True, timeout=TIMEOUT_S)
    try:
        with http.stream("GET", url, headers={"Accept": "application/json, application/yaml, */*"}) as answer:
            if answer.status_code >= 400:
                raise ImportFailed(f"{url}: the server answered {answer.status_code}")
            chunks: list[bytes] = []
            size = 0
            for chunk in answer.iter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise ImportFailed(f"{url}: larger than {MAX_BYTES // 2**20} MiB")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise ImportFailed(f"{url}: cannot be fetched: {type(exc).__name__}: {exc}") from None
    finally:
        if owned:
            http.close()
    return _decode(b"".join(chunks), url)


def _decode(raw: bytes, label: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _parse(text: str, uri: str, label: str) -> Loaded:
    if text.lstrip()[:1] in ("{", "["):
        try:
            return Loaded(orjson.loads(text), uri, label)
        except orjson.JSONDecodeError:
            pass  # let the YAML reader locate the problem (JSON is nearly a subset of YAML)
    try:
        source = parse_yaml(text, label)
    except YamlSyntaxError as exc:
        problem = exc.problem
        raise ImportFailed(f"{label}:{problem.line}:{problem.column}: {problem.message}") from None
    return Loaded(source.data, uri, label, source)


def _doc_path(where: str, source: Source) -> DocPath:
    """The document path of a JSON pointer; a digit part is a list index where the text has a list
    there, and a key (``"200"``) where it has a mapping."""
    fragment = where[1:] if where.startswith("#") else where
    parts: list[str | int] = []
    for raw in fragment.split("/")[1:]:
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        if part.isdigit() and (*parts, int(part)) in source.value_positions:
            parts.append(int(part))
        else:
            parts.append(part)
    return tuple(parts)
