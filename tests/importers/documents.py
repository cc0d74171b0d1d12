"""The OpenAPI descriptions the importer is proven on.

* ``@readme/oas-examples`` (MIT, ReadMe's collection of OpenAPI 3.0, 3.1 and Swagger 2.0 documents
  written to exercise every corner of the specifications), fetched from the npm registry at a
  pinned version whose tarball must match the registry's published sha512 integrity, and cached
  under ``.ci/.oas-examples/`` (gitignored; ``$NAFTIKO_OAS_EXAMPLES_CACHE`` moves it). Nothing is
  executed from the package: only its ``.json``/``.yaml`` documents are extracted.
* the mock OpenAPI descriptions that ship with the Naftiko tutorial and the Ikanos importer tests in
  ``../shared/conformance``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
SHARED = (REPO / ".." / "shared" / "conformance").resolve()
PACKAGE = "@readme/oas-examples"
VERSION = "8.2.2"
INTEGRITY = "sha512-uytlvlylq3zpemG0h1R7ijlMBCajqXU0VpMI1Iw+j92s77Y/oT6pBf3BZN0lYl0WIGTh7POM4Jdu7L14eCzwXQ=="
REGISTRY = "https://registry.npmjs.org"
CACHE = Path(os.environ.get("NAFTIKO_OAS_EXAMPLES_CACHE") or REPO / ".ci" / ".oas-examples")
_SUFFIXES = (".json", ".yaml", ".yml")
_DOCUMENT_FOLDERS = ("package/2.0/", "package/3.0/", "package/3.1/")


class Unavailable(Exception):
    """The registry cannot be reached (the suite says so and skips these documents)."""


def oas_examples() -> list[Path]:
    """Every description of the pinned package, downloaded and checked once."""
    folder = CACHE / VERSION
    if not (folder / ".complete").exists():
        _download(folder)
    return sorted(p for p in folder.rglob("*") if p.suffix in _SUFFIXES and p.is_file())


def conformance_descriptions() -> list[Path]:
    """The mock OpenAPI descriptions of the shared conformance folders (the tutorial's and Ikanos')."""
    if not SHARED.is_dir():
        return []
    found = [p for p in SHARED.rglob("*") if p.suffix in _SUFFIXES and p.is_file() and _is_openapi(p)]
    return sorted(found)


def _is_openapi(path: Path) -> bool:
    head = path.read_text(encoding="utf-8", errors="replace")[:400]
    return "openapi" in head or '"swagger"' in head or "swagger:" in head


def _download(folder: Path) -> None:
    try:
        with httpx.Client(timeout=60, follow_redirects=True) as client:
            meta = client.get(f"{REGISTRY}/{PACKAGE}/{VERSION}")
            meta.raise_for_status()
            dist = meta.json()["dist"]
            if dist.get("integrity") != INTEGRITY:
                raise AssertionError(
                    f"{PACKAGE}@{VERSION}: the registry now publishes {dist.get('integrity')}"
                )
            answer = client.get(dist["tarball"])
            answer.raise_for_status()
    except httpx.HTTPError as exc:
        raise Unavailable(f"{PACKAGE}@{VERSION} cannot be fetched from {REGISTRY}: {exc}") from None
    algorithm, _, expected = INTEGRITY.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, answer.content).digest()).decode()
    if digest != expected:
        raise AssertionError(f"{PACKAGE}@{VERSION}: tarball {algorithm} is {digest}, expected {expected}")
    # Extracted beside the cache and renamed into place, so that two test workers fetching at once
    # never see (or remove) each other's half-written folder.
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{VERSION}-", dir=folder.parent))
    with tarfile.open(fileobj=io.BytesIO(answer.content), mode="r:gz") as archive:
        members = [
            m
            for m in archive.getmembers()
            if m.isfile() and m.name.startswith(_DOCUMENT_FOLDERS) and Path(m.name).suffix in _SUFFIXES
        ]
        archive.extractall(staging, members=members, filter="data")
    (staging / ".complete").write_text(INTEGRITY + "\n", encoding="utf-8")
    if (folder / ".complete").exists():  # another worker finished first
        shutil.rmtree(staging, ignore_errors=True)
        return
    shutil.rmtree(folder, ignore_errors=True)  # a folder left half-written by an interrupted run
    try:
        staging.rename(folder)
    except OSError:  # another worker renamed its copy in between
        shutil.rmtree(staging, ignore_errors=True)
