"""Where a ``location`` points: ``file:///abs``, ``file:///./rel``, ``file://./rel``, ``./rel``.

Binds, consumes imports, static MCP resources, prompt files, skill directories and script steps all
name local files this way; relative forms resolve against the capability file's directory, never
the working directory.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

SUPPORTED = "file:// locations and relative paths"


class LocationError(ValueError):
    """A location that names no local file; ``reason`` says why (without the rest of the URI)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def resolve_location(location: str, base_dir: Path | None) -> Path:
    """The absolute path a ``file`` location names, or :class:`LocationError` if it names none.

    Relative forms are resolved against ``base_dir`` (the capability file's directory); without
    one, a relative location cannot be resolved and says so instead of guessing the CWD.
    """
    text = location.strip()
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # `http://[::1`: not a URI at all
        raise LocationError(f"cannot be resolved: not a valid URI ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme and scheme != "file":
        # Report the scheme only: the rest of a URI may carry credentials (vault://token@host/...).
        raise LocationError(
            f"cannot be resolved: provider '{scheme}://' is not supported by this runtime "
            f"(supported: {SUPPORTED})"
        )
    if scheme == "file":
        netloc, path = parts.netloc, unquote(parts.path)
        if netloc in (".", ".."):
            relative: str | None = f"{netloc}{path}"  # file://./rel
        elif netloc not in ("", "localhost"):
            raise LocationError(
                f"cannot be resolved: file location on another host ('{netloc}') is not supported"
            )
        elif path.startswith(("/./", "/../")):
            relative = path[1:]  # file:///./rel
        elif path.startswith("/"):
            relative = None
        else:
            relative = path  # file:rel (not RFC 8089, but unambiguous)
    else:
        path = text
        relative = None if text.startswith("/") else text
    if relative is None:
        return Path(path)
    if base_dir is None:
        raise LocationError(
            f"cannot be resolved: relative location '{location}' is resolved against the capability "
            "file's directory, and this document was not loaded from a file"
        )
    return (Path(base_dir) / relative).absolute()
