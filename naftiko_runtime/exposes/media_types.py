"""The media type of a published file (a skill's file, an MCP static resource), by its extension."""

from __future__ import annotations

import mimetypes
import os

# Explicit types for what skill and resource directories usually hold: mimetypes depends on the
# host's /etc/mime.types and gets some of these wrong (``.ts`` is MPEG transport stream there, ``.md``
# is often unknown).
_MEDIA_TYPES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".txt": "text/plain",
    ".text": "text/plain",
    ".json": "application/json",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".toml": "application/toml",
    ".xml": "application/xml",
    ".csv": "text/csv",
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".ts": "text/x-typescript",
    ".py": "text/x-python",
    ".sh": "text/x-shellscript",
    ".sql": "application/sql",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
    ".zip": "application/zip",
}


def media_type(name: str) -> str:
    """The media type of a file name, by extension (``application/octet-stream`` when unknown)."""
    suffix = os.path.splitext(name)[1].lower()
    known = _MEDIA_TYPES.get(suffix)
    if known is not None:
        return known
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"
