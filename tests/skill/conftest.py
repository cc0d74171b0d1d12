"""Serving skill exposes on loopback ports, with skill directories built in temporary folders.

``serve_skill(capability, expose=..., environ=...)`` builds the runtime as ``naftiko serve`` does,
mounts ``build_skill_app`` in a :class:`ServerThread` and closes the runtime afterwards.
``make_skill_dir(path)`` lays out a skill directory with every kind of entry the adapter must sort
out: published files, hidden ones, links inside and outside.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from naftiko_runtime.exposes.skill import build_skill_app
from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.spec import load
from tests.support.servers import ServerThread

CAPABILITIES = Path(__file__).with_name("capabilities")
REPO = Path(__file__).resolve().parents[2]
SHARED = (REPO / ".." / "shared").resolve()
TUTORIAL = SHARED / "conformance/naftiko-framework-1.0.0-alpha2/src/main/resources/tutorial"
needs_tutorial = pytest.mark.skipif(not TUTORIAL.is_dir(), reason=f"{TUTORIAL} is absent")

SKILL_MD = "---\nname: order-management\ndescription: Tools for managing orders\n---\n\n# Orders\n"
GUIDE = "# Working with orders\n\nList them first.\n"
OUTSIDE_SECRET = "outside-secret-4b1d"

# What a directory made by make_skill_dir publishes: path → bytes.
PUBLISHED = {
    "SKILL.md": SKILL_MD.encode(),
    "data/limits.json": b'{"max": 10}\n',
    "data/sample.yaml": b"orders: []\n",
    "examples/advanced usage.md": "# Avancé\n".encode(),
    "guide-link.md": GUIDE.encode(),
    "logo.png": b"\x89PNG\r\n\x1a\n" + bytes(range(32)),
    "order-guide.md": GUIDE.encode(),
    "raw.bin-data": b"\x00\x01\x02",
}


def make_skill_dir(root: Path) -> Path:
    """A skill directory: ``PUBLISHED`` plus entries that must never be served or listed."""
    root.mkdir(parents=True, exist_ok=True)
    for relative, data in PUBLISHED.items():
        if relative == "guide-link.md":
            continue
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    os.symlink("order-guide.md", root / "guide-link.md")  # a link inside: published
    (root / ".env").write_text("TOKEN=hidden\n")  # hidden: not published
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    outside = root.parent / f"{root.name}-outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.txt").write_text(OUTSIDE_SECRET)
    os.symlink(outside / "secret.txt", root / "escape.txt")  # a link out of the directory
    os.symlink(outside, root / "escape-dir")  # a directory link out of it
    os.symlink("missing-target.md", root / "dangling.md")
    return root


def place_capability(source: Path, directory: Path) -> Path:
    """``source`` copied into ``directory`` (where its relative locations then resolve)."""
    directory.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(source, directory / source.name))


@dataclass
class SkillServer:
    server: ServerThread
    runtime: Runtime

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, **options: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10.0, **options)  # type: ignore[arg-type]


@contextlib.contextmanager
def serve_skill(
    capability: Path | str, *, expose: int = 0, environ: Mapping[str, str] | None = None
) -> Iterator[SkillServer]:
    runtime = Runtime.build(load(str(capability)), RuntimeOptions(environ=dict(environ or {})))
    server = ServerThread(build_skill_app(runtime.skills[expose], runtime.context)).start()
    try:
        yield SkillServer(server, runtime)
    finally:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(runtime.aclose(), server.loop).result(5)
        server.stop()
