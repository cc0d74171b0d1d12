"""Load a capability document: YAML → dialect normalisation → imports → typed models → semantic rules.

Every problem found on the way carries its file, line, column and the path inside the document, and
all problems of a file are reported at once. ``load`` raises :class:`SpecError`; ``check`` returns the
report (warnings included) for ``naftiko validate``.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import Problem, Severity, SpecError
from ..locations import LocationError, resolve_location
from .forms import is_import
from .ikanos import read_spelling
from .models import Document
from .normalize import normalize
from .source import DocPath, Source, YamlSyntaxError, format_path, parse_yaml, read_yaml
from .validate import check_document
from .walk import children, field_aliases


@dataclass
class LoadReport:
    """The outcome of reading one file: the document (``None`` if it has errors) and every problem."""

    file: str
    document: Document | None
    problems: list[Problem] = field(default_factory=list)
    locator: Callable[..., Problem] | None = field(default=None, repr=False, compare=False)

    def refuse(self, path: DocPath, message: str, rule: str) -> None:
        """Add an error found by a rule that spans several files (the document no longer loads)."""
        assert self.locator is not None, "only a report of a document that was read can locate"
        self.problems.append(self.locator(path, message, rule=rule))
        self.document = None

    def where(self, path: DocPath) -> str:
        """``file:line`` of ``path``, for messages of other files' problems."""
        assert self.locator is not None
        found = self.locator(path, "")
        return f"{found.file}:{found.line}"

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return self.document is not None


def load(path: str | Path, *, strict: bool = False) -> Document:
    """Load and validate a document; raise :class:`SpecError` listing every located error."""
    report = check(path, strict=strict)
    if report.document is None:
        raise SpecError(report.problems)
    return report.document


def loads(
    text: str, file: str = "<string>", *, base_dir: Path | None = None, strict: bool = False
) -> Document:
    """Like :func:`load`, for YAML text already in memory."""
    report = check_text(text, file, base_dir=base_dir, strict=strict)
    if report.document is None:
        raise SpecError(report.problems)
    return report.document


def check(path: str | Path, *, strict: bool = False) -> LoadReport:
    """Read, normalise and validate a file, collecting problems instead of raising."""
    file = str(path)
    try:
        source = read_yaml(Path(path))
    except YamlSyntaxError as exc:
        return LoadReport(file, None, [exc.problem])
    return _Loading(source, strict).run()


def check_text(
    text: str, file: str = "<string>", *, base_dir: Path | None = None, strict: bool = False
) -> LoadReport:
    try:
        source = parse_yaml(text, file)
    except YamlSyntaxError as exc:
        return LoadReport(file, None, [exc.problem])
    return _Loading(source, strict, base_dir=base_dir).run()


class _Overlay:
    """Paths under ``prefix`` in the main document came from ``source`` at ``source_prefix``."""

    def __init__(self, prefix: DocPath, source: Source, source_prefix: DocPath, note: str) -> None:
        self.prefix = prefix
        self.source = source
        self.source_prefix = source_prefix
        self.note = note


class _Loading:
    def __init__(self, source: Source, strict: bool, base_dir: Path | None = None) -> None:
        self.source = source
        self.strict = strict
        self._base_dir = base_dir
        self.problems: list[Problem] = []
        self.overlays: list[_Overlay] = []
        self.imported: dict[Path, tuple[Source | None, Any]] = {}

    @property
    def base_dir(self) -> Path:
        """Where relative import locations start; resolved only when a document imports something."""
        if self._base_dir is None:
            self._base_dir = self.source.directory if not self.source.file.startswith("<") else Path.cwd()
        return self._base_dir

    # -- locating ----------------------------------------------------------------------------------

    def problem(
        self,
        path: DocPath,
        message: str,
        *,
        severity: Severity = "error",
        rule: str = "invalid",
        key: bool = False,
    ) -> Problem:
        for overlay in self.overlays:
            if path[: len(overlay.prefix)] == overlay.prefix:
                inner = (*overlay.source_prefix, *path[len(overlay.prefix) :])
                found = overlay.source.problem(
                    inner, f"{message} ({overlay.note})", severity=severity, rule=rule, key=key
                )
                return found
        return self.source.problem(path, message, severity=severity, rule=rule, key=key)

    def locate(self, path: DocPath) -> str:
        found = self.problem(path, "")
        return f"{format_path(path)} ({Path(found.file).name}:{found.line})"

    def error(self, path: DocPath, message: str, rule: str) -> None:
        self.problems.append(self.problem(path, message, rule=rule))

    def warn(self, path: DocPath, message: str, rule: str) -> None:
        self.problems.append(self.problem(path, message, severity="warning", rule=rule))

    # -- pipeline ----------------------------------------------------------------------------------

    def run(self) -> LoadReport:
        if self.strict:
            from .schema import schema_problems

            self.problems.extend(schema_problems(self.source))
        self.problems.extend(read_spelling(self.source))
        data, normalized = normalize(self.source)
        self.problems.extend(normalized)
        document = None
        if data is not None:
            self._resolve_imports(data)
            document, data, original = self._build(data)
            if document is not None:
                self._unknown_keys(document, ())
                check_document(
                    document,
                    data,
                    lambda path, message, rule: self.error(original(path), message, rule),
                    lambda path, message, rule: self.warn(original(path), message, rule),
                    lambda path: self.locate(original(path)),
                )
        self.problems.sort(key=lambda p: (p.file != self.source.file, p.file, p.line, p.column))
        if any(p.severity == "error" for p in self.problems):
            document = None
        return LoadReport(self.source.file, document, self.problems, self.problem)

    def _build(
        self, data: dict[str, Any]
    ) -> tuple[Document | None, dict[str, Any], Callable[[DocPath], DocPath]]:
        """Validate into models. A list entry the models refuse is reported, then set aside so the
        rest of the document is still checked: every problem of a file is reported at once."""
        pruned = _Pruned(data)
        for _ in range(_PRUNE_ROUNDS):
            try:
                document = Document.model_validate(pruned.data)
            except ValidationError as exc:
                failed: list[DocPath] = []
                for path, message, missing in _model_errors(pruned.data, exc.errors()):
                    self.problems.append(
                        self.problem(pruned.original(path), message, rule="schema-type", key=missing)
                    )
                    failed.append(path)
                if not pruned.drop(failed):
                    return None, data, pruned.original
                continue
            return self._with_source(document), pruned.data, pruned.original
        return None, data, pruned.original

    def _with_source(self, document: Document) -> Document:
        if not self.source.file.startswith("<"):
            return document.model_copy(update={"source_file": str(Path(self.source.file).resolve())})
        if self._base_dir is not None:
            # Text given with a base directory: binds, imports and schema files resolve against it.
            return document.model_copy(
                update={"source_file": str(self._base_dir.resolve() / self.source.file)}
            )
        return document

    def _unknown_keys(self, model: BaseModel, path: DocPath) -> None:
        for key_path in unknown_keys(model, path):
            self.problems.append(
                self.problem(
                    key_path,
                    f"unknown key {key_path[-1]!r} ignored",
                    severity="warning",
                    rule="unknown-key",
                    key=True,
                )
            )

    # -- imports -----------------------------------------------------------------------------------

    def _resolve_imports(self, data: dict[str, Any]) -> None:
        """Replace every ``{location|from, import, as}`` entry of ``binds``, ``consumes``, ``exposes``
        and ``aggregates`` by the entry it names in the other file (that file's own problems are
        located in it, noting which line imported it)."""
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
                            self.error(
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
                self.error(
                    (*path, index, "as" if "as" in entry else "import"),
                    f"import of {entry.get('import')!r} takes the namespace {name!r}, already taken by "
                    f"the import at {self.locate((*path, seen[name]))}",
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
            self.error(path, f"an import needs `{where}` and `import` (missing: {missing})", "bad-import")
            return None
        try:
            target = resolve_location(location, self.base_dir).resolve()
        except LocationError as exc:
            self.error((*path, "location"), f"import location {exc.reason}", "bad-import")
            return None
        itself = not self.source.file.startswith("<") and target == Path(self.source.file).resolve()
        if itself or target.is_dir():
            self.error(
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
                self.overlays.append(
                    _Overlay(new_path, source, source_path, f"imported by {self.source.file}:{here[0]}")
                )
                return resolved
        available = ", ".join(sorted(str(c.get("namespace")) for _, c in candidates)) or "none"
        self.error(
            (*path, "import"),
            f"namespace {name!r} not found in {target} (it declares: {available})",
            "bad-import",
        )
        return None

    def _imported_source(
        self, target: Path, path: DocPath, section: str
    ) -> tuple[Source, list[tuple[DocPath, dict[str, Any]]]] | None:
        read = self.imported.get(target)
        if read is None:
            read = self.imported[target] = self._read_imported(target, path)
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
            self.error(
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
                self.error((*path, "location"), f"imported file {target} not found", "bad-import")
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


_IMPORT_SECTIONS = ("binds", "consumes", "exposes", "aggregates")
_LOCATION_KEYS = frozenset({"location", "defaultLocation"})


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


_PRUNE_ROUNDS = 4


class _Pruned:
    """The document with refused list entries removed, and the way back to original paths."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self._removed: dict[DocPath, list[int]] = {}  # list path → original indexes removed

    def drop(self, failed: list[DocPath]) -> bool:
        """Remove the innermost list entry holding each failure; False if one is outside any list."""
        targets: dict[DocPath, set[int]] = {}
        for path in failed:
            positions = [(i, part) for i, part in enumerate(path) if isinstance(part, int)]
            if not positions:
                return False
            cut, entry = positions[-1]
            targets.setdefault(path[:cut], set()).add(entry)
        removed_entries = {(*list_path, index) for list_path, indexes in targets.items() for index in indexes}
        # An entry inside one that goes anyway needs no removal of its own.
        targets = {
            list_path: indexes
            for list_path, indexes in targets.items()
            if not any(list_path[:n] in removed_entries for n in range(1, len(list_path) + 1))
        }
        if self.data is not None and targets:
            self.data = copy.deepcopy(self.data)
        # Innermost lists first: removing an entry never shifts the path of a list inside another.
        for list_path, indexes in sorted(targets.items(), key=lambda item: -len(item[0])):
            holder: Any = self.data
            for part in list_path:
                holder = holder[part]
            original_list = self.original(list_path)
            for index in sorted(indexes, reverse=True):
                self._removed.setdefault(original_list, []).append(self._original_index(original_list, index))
                del holder[index]
        return True

    def _original_index(self, original_list: DocPath, index: int) -> int:
        for removed in sorted(self._removed.get(original_list, [])):
            if removed <= index:
                index += 1
        return index

    def original(self, path: DocPath) -> DocPath:
        if not self._removed:
            return path
        out: list[str | int] = []
        for part in path:
            if isinstance(part, int):
                part = self._original_index(tuple(out), part)
            out.append(part)
        return tuple(out)


def unknown_keys(model: BaseModel, path: DocPath = ()) -> list[DocPath]:
    """The path of every key of a loaded document that no model field reads (the runtime ignores
    them; the loader warns about each)."""
    found: list[DocPath] = []
    _collect_unknown(model, path, found)
    return found


def _collect_unknown(model: BaseModel, path: DocPath, found: list[DocPath]) -> None:
    for key in model.model_extra or {}:
        found.append((*path, key))
    for name, alias in field_aliases(type(model)):
        value = getattr(model, name)
        if value is None or isinstance(value, (str, int, float, bool)):
            continue
        for sub_path, child in children(value, (*path, alias)):
            _collect_unknown(child, sub_path, found)


def _model_errors(data: Any, errors: list[Any]) -> list[tuple[DocPath, str, bool]]:
    """pydantic's errors as ``(path, message, missing)``, one per place.

    A value matching no member of a plain union (``logs: bool | {...}``) is reported once per member;
    only the members whose errors reach deepest into the document are kept (the one the author
    evidently meant), and what remains at one place is said in one message.
    """
    located = [(error, *_data_path(data, error["loc"])) for error in errors]
    deepest: dict[tuple[Any, ...], int] = {}
    for _, path, branch in located:
        if branch is not None:
            site = branch[:-1]
            deepest[site] = max(deepest.get(site, 0), len(path))
    merged: dict[DocPath, tuple[list[str], bool]] = {}
    for error, path, branch in located:
        if branch is not None and len(path) < deepest[branch[:-1]]:
            continue
        messages, _ = merged.setdefault(path, ([], error["type"] == "missing"))
        message = _describe(error)
        if message not in messages:
            messages.append(message)
    return [(path, " or ".join(messages), missing) for path, (messages, missing) in merged.items()]


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[DocPath, tuple[Any, ...] | None]:
    """Map a pydantic error location onto the document.

    pydantic inserts labels into locations: the tag of a discriminated union (``rest``, ``apikey``,
    ``call``…, which is the node's own ``type``/``kind`` value; at most once per node, since a step
    ``{type: call, call: …}`` has a key named like its tag) and the member of a plain union (``bool``,
    ``ControlLogs``, ``dict[str,any]``…). Labels are not keys of the document and are dropped; the
    location up to the first plain-union member is returned too, to tell that member's errors apart.
    """
    path: list[str | int] = []
    branch: tuple[Any, ...] | None = None
    node = data
    tag_open = True
    for index, part in enumerate(loc):
        if isinstance(node, list) and isinstance(part, int):
            path.append(part)
            node = node[part] if part < len(node) else None
            tag_open = True
        elif isinstance(node, dict) and tag_open and part in (node.get("type"), node.get("kind")):
            tag_open = False
        elif isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
            tag_open = True
        elif isinstance(part, str) and _is_member_label(part):
            branch = branch or tuple(loc[: index + 1])
        elif isinstance(node, dict):
            path.append(part)  # a missing key
            node = None
        else:
            break
    return tuple(path), branch


_PLAIN_TYPES = frozenset({"str", "int", "float", "bool", "none", "dict", "list", "tuple", "any"})


def _is_member_label(part: str) -> bool:
    """``bool``, ``dict[str,any]``, ``function-after[...]``, ``ControlLogs``: never a document key (the
    spec's keys are camelCase and start in lower case)."""
    return "[" in part or part in _PLAIN_TYPES or part[:1].isupper()


def _describe(error: dict[str, Any]) -> str:
    kind = error["type"]
    given = error.get("input")
    if kind == "missing":
        return f"missing required key {error['loc'][-1]!r}"
    if kind == "literal_error":
        return f"{error['msg'].replace('Input should be', 'expected')}, got {given!r}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping, got {_kind(given)}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {_kind(given)}"
    if kind == "value_error":  # a model's own check: its message says what is wrong with the value
        return str(error.get("ctx", {}).get("error") or error["msg"])
    if kind == "union_tag_invalid":
        context = error.get("ctx", {})
        return f"unknown `type` {context.get('tag')!r} (expected {context.get('expected_tags')})"
    message = error["msg"].replace("Input should be", "expected")
    return f"{message}, got {given!r}" if not isinstance(given, (dict, list)) else message


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    return type(value).__name__ if value is not None else "nothing"
