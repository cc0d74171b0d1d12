"""A skill's ``location`` directory: which files it publishes, one file by path, the zip of them all.

What is published: every regular file below the directory, except hidden entries (a name starting
with ``.``: ``.git/``, ``.env``, ``.DS_Store`` are not meant for agents) and symbolic links whose
target lies outside the directory. A link to a directory is not descended into (no loops, no
escape); a link to a file inside the directory is published under the link's own path.

A client's path is checked segment by segment before it touches the file system: an empty, ``.``
or ``..`` segment, a backslash, a NUL or a control character is refused (:class:`UnsafePath`, 400),
and so is anything whose real path (symbolic links resolved) leaves the directory. The directory is
resolved again on every request, so a location created after startup is served without a restart.
"""

from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from naftiko_runtime.exposes.media_types import media_type

SKILL_FILE = "SKILL.md"
"""The Agent Skills entry point: frontmatter and the skill's instructions."""

_CHUNK = 64 * 1024


class FileProblem(Exception):
    """A file request that cannot be answered with the file; ``status`` is 400 or 404."""

    status = 404

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class UnsafePath(FileProblem):
    """The path is malformed or leaves the skill's directory (400)."""

    status = 400


class NotPublished(FileProblem):
    """No published file has this path (404)."""


@dataclass(frozen=True, slots=True)
class PublishedFile:
    path: str  # relative, with "/" separators
    size: int
    media_type: str
    real: str  # absolute path with every symbolic link resolved

    def listing(self) -> dict[str, object]:
        return {"path": self.path, "size": self.size, "type": self.media_type}


def real_directory(root: Path) -> str | None:
    """The real path of ``root`` if it is a directory now, else None."""
    real = os.path.realpath(root)
    return real if os.path.isdir(real) else None


def _inside(real_root: str, real: str) -> bool:
    try:
        return os.path.commonpath((real_root, real)) == real_root
    except ValueError:  # different drives (Windows)
        return False


def check_segments(relative: str) -> list[str]:
    """The segments of a client's relative path, or :class:`UnsafePath` if any is unsafe."""
    if not relative:
        raise UnsafePath("the file path is empty")
    if relative.startswith("/"):
        raise UnsafePath("the file path must be relative to the skill's directory")
    segments = relative.split("/")
    for segment in segments:
        if segment in ("", ".", ".."):
            raise UnsafePath("the file path has an empty, '.' or '..' segment")
        if "\\" in segment or any(ord(c) < 0x20 or ord(c) == 0x7F for c in segment):
            raise UnsafePath("the file path has a backslash or a control character")
    return segments


def resolve_file(real_root: str, relative: str) -> PublishedFile:
    """The published file at ``relative`` below ``real_root`` (see the module docstring)."""
    segments = check_segments(relative)
    if any(segment.startswith(".") for segment in segments):
        raise NotPublished("no published file has this path (hidden files are not published)")
    real = os.path.realpath(os.path.join(real_root, *segments))
    if not _inside(real_root, real):
        raise UnsafePath("the file path resolves outside the skill's directory")
    try:
        info = os.stat(real)
    except OSError:
        raise NotPublished("no published file has this path") from None
    if not stat.S_ISREG(info.st_mode):
        raise NotPublished("no published file has this path (it is not a regular file)")
    path = "/".join(segments)
    return PublishedFile(path, info.st_size, media_type(segments[-1]), real)


def list_files(real_root: str) -> list[PublishedFile]:
    """Every published file below ``real_root``, sorted by path."""
    files: list[PublishedFile] = []
    for dirpath, dirnames, filenames in os.walk(real_root, followlinks=False):
        # os.walk lists links to directories among dirnames but, without followlinks, never enters them.
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith("."):
                continue
            full = os.path.join(dirpath, name)
            real = os.path.realpath(full)
            if not _inside(real_root, real):
                continue
            try:
                info = os.stat(real)
            except OSError:  # a dangling link, or gone since the walk saw it
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            relative = os.path.relpath(full, real_root).replace(os.sep, "/")
            files.append(PublishedFile(relative, info.st_size, media_type(name), real))
    files.sort(key=lambda f: f.path)
    return files


def has_skill_file(real_root: str) -> bool:
    """Whether the directory publishes a ``SKILL.md``."""
    try:
        resolve_file(real_root, SKILL_FILE)
    except FileProblem:
        return False
    return True


class _Chunks:
    """A write-only stream collecting what zipfile writes, handed out as chunks.

    It has no ``tell``/``seek``, so zipfile writes in streaming mode (sizes and CRC in data
    descriptors after each entry) and never needs the whole archive in memory.
    """

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def zip_stream(files: list[PublishedFile]) -> Iterator[bytes]:
    """The zip archive of ``files`` (entries named by their relative paths), chunk by chunk.

    A plain iterator: Starlette runs it in a worker thread, so reading files never blocks the loop.
    A file that disappeared since it was listed is left out.
    """
    sink = _Chunks()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, strict_timestamps=False) as archive:
        for published in files:
            try:
                source = open(published.real, "rb")  # noqa: SIM115 - closed below, chunks yielded in between
            except OSError:
                continue
            with source:
                info = zipfile.ZipInfo.from_file(published.real, published.path, strict_timestamps=False)
                info.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(info, "w") as entry:
                    while chunk := source.read(_CHUNK):
                        entry.write(chunk)
                        data = sink.take()
                        if data:
                            yield data
            data = sink.take()
            if data:
                yield data
    data = sink.take()
    if data:
        yield data
