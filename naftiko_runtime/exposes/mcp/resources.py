"""Resources: static directories (one resource per file) and invocable-backed resources and templates.

Static reads are confined to their directory: each URI segment is checked, the path is resolved
(symlinks included) and must stay inside the directory; a directory itself is never read.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from naftiko_runtime.errors import InputError
from naftiko_runtime.exposes.media_types import media_type

from .catalog import DynamicResourceEntry, ResourceEntry, StaticResourceEntry
from .jsonrpc import INTERNAL_ERROR, INVALID_PARAMS, RpcError, dumps
from .tools import describe_failure

_TEXTUAL_APPLICATION = ("json", "xml", "yaml", "javascript", "ecmascript", "x-sh", "sql", "graphql", "toml")
_TEMPLATE_VAR = re.compile(r"\{([A-Za-z0-9_]+)\}")


def is_textual(mime: str) -> bool:
    base = mime.split(";", 1)[0].strip().lower()
    if base.startswith("text/"):
        return True
    return base.startswith("application/") and any(word in base for word in _TEXTUAL_APPLICATION)


def contents(uri: str, mime: str, value: Any, *, binary: bool = False) -> dict[str, Any]:
    """One ``contents`` item. JSON-like data is compact JSON text; bytes, and base64 text under a
    binary MIME type (the only way JSON-like data carries bytes), become a ``blob`` (always, for a
    resource declared ``binary``)."""
    if isinstance(value, bytes | bytearray):
        if is_textual(mime) and not binary:
            try:
                return {"uri": uri, "mimeType": mime, "text": bytes(value).decode("utf-8")}
            except UnicodeDecodeError:
                pass
        return {"uri": uri, "mimeType": mime, "blob": base64.b64encode(value).decode("ascii")}
    if isinstance(value, str):
        if not is_textual(mime) and _is_base64(value):
            return {"uri": uri, "mimeType": mime, "blob": value}
        if not mime.split(";", 1)[0].strip().lower().endswith("json"):
            return {"uri": uri, "mimeType": mime, "text": value}
    return {"uri": uri, "mimeType": mime, "text": dumps(value)}


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return bool(text)


@dataclass(frozen=True, slots=True)
class _Template:
    entry: DynamicResourceEntry
    pattern: re.Pattern[str]


def _compile_template(uri: str) -> re.Pattern[str]:
    """``data://users/{id}/profile`` → a regex where each variable matches one path segment."""
    parts: list[str] = []
    last = 0
    for match in _TEMPLATE_VAR.finditer(uri):
        parts.append(re.escape(uri[last : match.start()]))
        parts.append(f"(?P<{match.group(1)}>[^/?#]+)")
        last = match.end()
    parts.append(re.escape(uri[last:]))
    return re.compile("".join(parts) + r"\Z")


class ResourceIndex:
    """Answers ``resources/list``, ``resources/templates/list`` and ``resources/read``."""

    def __init__(self, entries: Sequence[ResourceEntry]) -> None:
        self._static: list[StaticResourceEntry] = []
        self._exact: dict[str, DynamicResourceEntry] = {}
        self._templates: list[_Template] = []
        for entry in entries:
            if isinstance(entry, StaticResourceEntry):
                self._static.append(entry)
            elif _TEMPLATE_VAR.search(entry.uri):
                self._templates.append(_Template(entry, _compile_template(entry.uri)))
            else:
                self._exact[entry.uri] = entry

    def __bool__(self) -> bool:
        return bool(self._static or self._exact or self._templates)

    # --- listing ---------------------------------------------------------------------------------

    async def list_resources(self) -> list[dict[str, Any]]:
        out = [_describe(entry.uri, entry.name, entry, entry.mime_type) for entry in self._exact.values()]
        for entry in self._static:
            # Listed afresh on every request (the directory may change while the server runs), in a
            # thread so that a large tree does not stall other requests.
            for relative, path in await asyncio.to_thread(_walk, entry.directory):
                uri = entry.uri.rstrip("/") + "/" + "/".join(quote(part) for part in relative)
                item = _describe(uri, "/".join(relative), entry, entry.mime_type or media_type(path.name))
                out.append(item)
        return out

    def list_templates(self) -> list[dict[str, Any]]:
        out = []
        for template in self._templates:
            entry = template.entry
            item = _describe(entry.uri, entry.name, entry, entry.mime_type)
            item["uriTemplate"] = item.pop("uri")
            out.append(item)
        return out

    # --- reading ---------------------------------------------------------------------------------

    async def read(self, uri: str) -> dict[str, Any]:
        entry = self._exact.get(uri)
        if entry is not None:
            return await _read_dynamic(entry, uri, {})
        for template in self._templates:
            match = template.pattern.match(uri)
            if match:
                arguments = {name: unquote(value) for name, value in match.groupdict().items()}
                return await _read_dynamic(template.entry, uri, arguments)
        for static in self._static:
            prefix = static.uri.rstrip("/")
            if uri == prefix or uri == prefix + "/":
                raise RpcError(INVALID_PARAMS, f"Resource URI resolves to a directory, not a file: {uri}")
            if uri.startswith(prefix + "/"):
                return await _read_static(static, uri, uri[len(prefix) + 1 :])
        raise RpcError(INVALID_PARAMS, f"Unknown resource URI: {uri}", {"uri": uri})


def _describe(uri: str, name: str, entry: ResourceEntry, mime: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {"uri": uri, "name": name}
    if entry.title:
        item["title"] = entry.title
    if entry.description:
        item["description"] = entry.description
    if mime:
        item["mimeType"] = mime
    return item


def _walk(directory: Path) -> list[tuple[tuple[str, ...], Path]]:
    found: list[tuple[tuple[str, ...], Path]] = []
    root = directory.resolve()
    for current, dirs, files in os.walk(root):
        dirs.sort()
        base = Path(current)
        for name in sorted(files):
            path = base / name
            if _inside(path, root):  # a symlink leaving the directory is not listed either
                found.append((path.relative_to(root).parts, path))
    return found


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except OSError:
        return False


async def _read_static(entry: StaticResourceEntry, uri: str, relative: str) -> dict[str, Any]:
    segments = [unquote(part) for part in relative.split("/")]
    if any(s in ("", ".", "..") or "\\" in s or "\x00" in s for s in segments):
        raise RpcError(INVALID_PARAMS, f"Path traversal refused for resource URI: {uri}")
    root = entry.directory.resolve()
    path = root.joinpath(*segments)
    if not _inside(path, root):
        raise RpcError(INVALID_PARAMS, f"Path traversal refused for resource URI: {uri}")
    resolved = path.resolve()
    if resolved.is_dir():
        raise RpcError(INVALID_PARAMS, f"Resource URI resolves to a directory, not a file: {uri}")
    if not resolved.is_file():
        raise RpcError(INVALID_PARAMS, f"Unknown resource URI: {uri}", {"uri": uri})
    try:
        data = await asyncio.to_thread(resolved.read_bytes)
    except OSError as exc:
        raise RpcError(INTERNAL_ERROR, f"Resource could not be read: {uri} ({exc.strerror})") from None
    return {"contents": [contents(uri, entry.mime_type or media_type(resolved.name), data)]}


async def _read_dynamic(entry: DynamicResourceEntry, uri: str, arguments: dict[str, Any]) -> dict[str, Any]:
    try:
        result = await entry.invocable.invoke(arguments)
    except InputError as exc:
        raise RpcError(INVALID_PARAMS, describe_failure(exc, entry.name), {"uri": uri}) from None
    except Exception as exc:
        raise RpcError(INTERNAL_ERROR, describe_failure(exc, entry.name), {"uri": uri}) from None
    value = result.value
    mime = entry.mime_type or (result.content_type if isinstance(value, bytes) else "application/json")
    return {"contents": [contents(uri, mime, value, binary=entry.binary)]}
