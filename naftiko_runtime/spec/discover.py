"""Which files of a served directory are capabilities (``naftiko serve DIR``, ``validate DIR``, reload).

A directory a user serves often holds YAML that is no capability: bind sources (the tutorial's
``shared/secrets.yaml``), consumes files that capabilities import, CI configuration. Such a file is
skipped with one note, never a reason to refuse the directory. A file is a capability candidate when
its top level has a ``capability`` key, or when it cannot even be read as YAML (then the loader
reports where it breaks: a half-written capability must not vanish silently). A file named on the
command line is always a candidate: the user asked for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

CAPABILITY_SUFFIXES = (".yaml", ".yml")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class SkippedFile:
    """A YAML file found in a directory that is not a capability, and why."""

    file: str
    reason: str

    def format(self) -> str:
        return f"{self.file}: note: skipped, {self.reason}"


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)


def discover(paths: Iterable[str | Path]) -> Discovery:
    """Files as given (missing ones too, so they are reported); directories expanded to their
    capability files, the other YAML files in them listed as skipped.

    Hidden entries (a name starting with ``.``) are passed over without a note: a Kubernetes
    ConfigMap mounted as a directory holds each file once visibly and again under ``..data`` and a
    ``..<timestamp>`` directory, and ``.git`` holds nothing to serve either; editors' swap and
    backup files (``.name.swp``, ``name.yaml~``) do not end in ``.yaml`` or are hidden.
    """
    found = Discovery()
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            found.files.append(path)
            continue
        for candidate in sorted(yaml_files(path)):
            reason = not_a_capability(candidate)
            if reason is None:
                found.files.append(candidate)
            else:
                found.skipped.append(SkippedFile(str(candidate), reason))
    return found


def yaml_files(directory: Path) -> Iterable[Path]:
    """Every visible ``.yaml``/``.yml`` file under ``directory``."""
    for path in directory.rglob("*"):
        if (
            path.suffix in CAPABILITY_SUFFIXES
            and not any(part.startswith(".") for part in path.relative_to(directory).parts)
            and path.is_file()
        ):
            yield path


def not_a_capability(path: Path) -> str | None:
    """Why ``path`` is no capability document, or ``None`` when it is one (or may be one)."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None  # the loader reports it, located
    if isinstance(data, dict) and "capability" in data:
        return None
    if data is None:
        return "empty file"
    if not isinstance(data, dict):
        return f"not a capability document (a YAML {type(data).__name__} at the top level)"
    if "consumes" in data:
        return "not a capability document (a shared consumes file, for capabilities to import)"
    return "not a capability document (no top-level `capability`)"
