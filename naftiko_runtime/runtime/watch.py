"""``naftiko serve --watch``: notice capability files added, changed and removed, then reload once.

Built on ``watchfiles`` (inotify on Linux, FSEvents on macOS, polling elsewhere), which already
gathers a burst of events: an editor that writes a temporary file, renames it over the original and
touches a backup is one change, reported after ``DEBOUNCE_MS`` of quiet. Editors' temporary and
backup files and hidden files (``.name.swp``, ``.#name``) are ignored themselves; the swap they are
part of is seen through the visible file it replaces. A Kubernetes ConfigMap mount changes by one
swap of its ``..data`` link (every visible file is a link through it): that swap is watched.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import watchfiles

log = logging.getLogger("naftiko.reload")
DEBOUNCE_MS = 300
_SOURCES = (".yaml", ".yml", ".json", ".env")
_TEMPORARY_SUFFIXES = ("~", ".swp", ".swx", ".swo", ".tmp", ".bak", ".orig", ".part", ".partial")


def relevant(path: str) -> bool:
    """A change worth a reload: not an editor's temporary or backup file, not a hidden entry; but
    a ConfigMap's ``..data`` link, which the kubelet swaps to change every file at once."""
    name = Path(path).name
    if name == "..data":
        return True
    # vim probes a directory with a file named 4913
    return not (name.startswith((".", "#")) or name.endswith(_TEMPORARY_SUFFIXES) or name == "4913")


def roots(paths: Sequence[str]) -> list[Path]:
    """What to watch: directories as given, and the directory of each file given (an editor
    replaces a file by renaming another over it, which a watch on the file itself would lose)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw).resolve()
        root = path if path.is_dir() else path.parent
        if root.exists() and root not in found:
            found.append(root)
    return found


async def watch_files(
    paths: Sequence[str], stop: asyncio.Event, changed: Callable[[list[str]], Awaitable[None]]
) -> None:
    """Call ``changed`` with the paths of each debounced burst of relevant changes, until ``stop``."""
    watched = roots(paths)
    files = {Path(raw).resolve() for raw in paths if not Path(raw).is_dir()}
    dirs = [Path(raw).resolve() for raw in paths if Path(raw).is_dir()]

    def wanted(_: watchfiles.Change, path: str) -> bool:
        if not relevant(path):
            return False
        resolved = Path(path)
        if resolved in files or resolved.name == "..data":
            return True
        # Capabilities, the files they import and bind sources; not the temporary files of tools
        # that write a copy and rename it over the original (sed -i, many editors).
        return resolved.suffix in _SOURCES and (
            any(resolved.is_relative_to(d) for d in dirs) or resolved.parent in {f.parent for f in files}
        )

    log.info("watching %s for changes", ", ".join(str(root) for root in watched))
    async for batch in watchfiles.awatch(
        *watched, watch_filter=wanted, debounce=DEBOUNCE_MS, step=50, stop_event=stop, recursive=True
    ):
        await changed(sorted({path for _, path in batch}))
