"""Imports: an entry ``{location|from, import, as}`` of ``binds``, ``consumes``, ``exposes`` or
``aggregates`` replaced by the entry it names in another file.

Each imported file is read, reshaped and normalised once, however many entries it gives. Its own
problems are located in it, noting which line imported it, and imports are not transitive: a shared
file cannot import, nor can an imported file import in turn.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import Problem
from ..locations import LocationError, resolve_location
from .forms import is_import
from .ikanos import read_spelling
from .locator import Locator
from .normalize import normalize
from .source import DocPath, Source, YamlSyntaxError, read_yaml

_IMPORT_SECTIONS = ("binds", "consumes", "exposes", "aggregates")
_LOCATION_KEYS = frozenset({"location", "defaultLocation"})


class Imports:
    """Resolves the imports of one document in place; collects the problems found on the way."""

    def __init__(self, source: Source, locator: Locator, base_dir: Callable[[], Path]) -> None:
        self.source = source
        self.locator = locator
        self._base_dir = base_dir  # asked only when the document imports something
        self.problems: list[Problem] = []
        self._read: dict[Path, tuple[Source | None, Any]] = {}

    def _error(self, path: DocPath, message: str, rule: str) -> None:
        self.problems.append(self.locator.problem(path, message, rule=rule))

    def resolve(self, data: dict[str, Any]) -> None:
        """Replace every import entry by the entry it names (an entry that cannot be resolved is
        reported and dropped)."""
        capability = data.get("capability")
        owners: list[tuple[dict[str, Any], DocPath]] = [(data, ())]
        if isinstance(capability, dict):
            owners.append((capability, ("capability",)))
        shared = not isinstance(capability, dict)
        for owner, path in owners:
            for section in _IMPORT_SECTIONS:
                entries = owner.get(section)
                if not isinstance(entries, list):
                    continue
                imports = [
                    (index, entry)
                    for index, entry in enumerate(entries)
                    if is_import(entry, bind=section == "binds")
                ]
                if not imports:
                    continue
                self._duplicate_imports(imports, (*path, section))
                resolved: list[Any] = []
                for index, entry in enumerate(entries):
                    epath = (*path, section, index)
                    if is_import(entry, bind=section == "binds"):
                        if shared:
                            self._error(
                                epath,
                                "a shared file cannot import: imports are not transitive, each "
                                "imported file declares its own entries",
                                "bad-import",
                            )
                            continue
                        entry = self._import(section, entry, epath, (*path, section, len(resolved)))
                        if entry is None:
                            continue
                    resolved.append(entry)
                owner[section] = resolved

    def _from_key(self) -> str:
        """What the document calls an import's location: ``from`` (Ikanos) or ``location``."""
        return "from" if isinstance(self.source.data, dict) and "ikanos" in self.source.data else "location"

    def _duplicate_imports(self, imports: list[tuple[int, dict[str, Any]]], path: DocPath) -> None:
        seen: dict[str, int] = {}
        for index, entry in imports:
            name = entry.get("as") or entry.get("import")
            if not isinstance(name, str):
                continue
            if name in seen:
                self._error(
                    (*path, index, "as" if "as" in entry else "import"),
                    f"import of {entry.get('import')!r} takes the namespace {name!r}, already taken by "
                    f"the import at {self.locator.locate((*path, seen[name]))}",
                    "duplicate-namespace",
                )
            else:
                seen[name] = index

    def _import(
        self, section: str, entry: dict[str, Any], path: DocPath, new_path: DocPath
    ) -> dict[str, Any] | None:
        name, location, alias = entry.get("import"), entry.get("location"), entry.get("as")
        where = self._from_key()
        if not isinstance(name, str) or not isinstance(location, str):
            missing = " and ".join(f"`{k}`" for k, v in ((where, location), ("import", name)) if v is None)
            self._error(path, f"an import needs `{where}` and `import` (missing: {missing})", "bad-import")
            return None
        try:
            target = resolve_location(location, self._base_dir()).resolve()
        except LocationError as exc:
            self._error((*path, "location"), f"import location {exc.reason}", "bad-import")
            return None
        itself = not self.source.file.startswith("<") and target == Path(self.source.file).resolve()
        if itself or target.is_dir():
            self._error(
                (*path, "location"),
                f"`{where}: {location}` names {'a directory' if target.is_dir() else 'this very file'}; "
                "an import names another file",
                "bad-import",
            )
            return None
        imported = self._imported_source(target, path, section)
        if imported is None:
            return None
        source, candidates = imported
        for source_path, candidate in candidates:
            if candidate.get("namespace") == name:
                resolved = copy.deepcopy(candidate)
                resolved["namespace"] = alias or name
                if section == "consumes":
                    resolved["origin"] = {"file": str(target), "imported": name, "alias": alias}
                else:
                    _anchor_locations(resolved, target.parent)
                here = self.source.position(path)
                self.locator.came_from(
                    new_path, source, source_path, f"imported by {self.source.file}:{here[0]}"
                )
                return resolved
        available = ", ".join(sorted(str(c.get("namespace")) for _, c in candidates)) or "none"
        self._error(
            (*path, "import"),
            f"namespace {name!r} not found in {target} (it declares: {available})",
            "bad-import",
        )
        return None

    def _imported_source(
        self, target: Path, path: DocPath, section: str
    ) -> tuple[Source, list[tuple[DocPath, dict[str, Any]]]] | None:
        read = self._read.get(target)
        if read is None:
            read = self._read[target] = self._read_imported(target, path)
        source, data = read
        if source is None or not isinstance(data, dict):
            return None
        candidates: list[tuple[DocPath, dict[str, Any]]] = []
        for prefix, holder in (((section,), data), (("capability", section), data.get("capability"))):
            entries = holder.get(section) if isinstance(holder, dict) else None
            for index, entry in enumerate(entries if isinstance(entries, list) else []):
                if not isinstance(entry, dict) or is_import(entry, bind=section == "binds"):
                    continue
                if section != "consumes" or "baseUri" in entry or "resources" in entry:
                    candidates.append(((*prefix, index), entry))
        if not candidates:
            self._error(
                (*path, "location"),
                f"{target} declares no {section} block (neither root `{section}` nor `capability.{section}`)",
                "bad-import",
            )
            return None
        return source, candidates

    def _read_imported(self, target: Path, path: DocPath) -> tuple[Source | None, Any]:
        """Read, reshape and normalise an imported file once, however many entries it gives."""
        here = self.source.position(path)
        try:
            source = read_yaml(target)
        except YamlSyntaxError as exc:
            problem = exc.problem
            if problem.rule == "file":
                self._error((*path, "location"), f"imported file {target} not found", "bad-import")
            else:
                self.problems.append(_imported_by(problem, self.source.file, here[0]))
            return None, None
        problems = read_spelling(source)
        data, normalized = normalize(source, consumes_only=True)
        for problem in [*problems, *normalized]:
            if problem.severity == "error":
                self.problems.append(_imported_by(problem, self.source.file, here[0]))
        if isinstance(data, dict):
            self._refuse_nested_imports(source, data, here[0])
        return source, data

    def _refuse_nested_imports(self, source: Source, data: dict[str, Any], line: int) -> None:
        """An imported file that imports itself is refused: imports are not transitive."""
        for section in _IMPORT_SECTIONS:
            for holder, prefix in ((data, ()), (data.get("capability"), ("capability",))):
                entries = holder.get(section) if isinstance(holder, dict) else None
                for index, entry in enumerate(entries if isinstance(entries, list) else []):
                    if is_import(entry, bind=section == "binds"):
                        problem = source.problem(
                            (*prefix, section, index),
                            "an imported file cannot import in turn: imports are not transitive",
                            rule="bad-import",
                        )
                        self.problems.append(_imported_by(problem, self.source.file, line))


def _imported_by(problem: Problem, importer: str, line: int) -> Problem:
    return Problem(
        message=f"{problem.message} (imported by {importer}:{line})",
        path=problem.path,
        file=problem.file,
        line=problem.line,
        column=problem.column,
        rule=problem.rule,
        severity=problem.severity,
    )


def _anchor_locations(node: Any, base_dir: Path) -> None:
    """Relative ``location``s of an imported entry name files next to the file it came from."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _LOCATION_KEYS and isinstance(value, str):
                # Not a local file (another provider): left as written, reported where it is used.
                with contextlib.suppress(LocationError, ValueError):
                    node[key] = resolve_location(value, base_dir).as_uri()
            else:
                _anchor_locations(value, base_dir)
    elif isinstance(node, list):
        for item in node:
            _anchor_locations(item, base_dir)
