"""Load a capability document, one step after another, and report every problem of a file at once.

The steps: YAML with positions (:mod:`.source`) → the Ikanos spelling read as alpha2 (:mod:`.ikanos`)
→ the tolerant reader's rewrites (:mod:`.normalize`) → imports (:mod:`.imports`) → typed models
(:mod:`.model_build`) → semantic rules (:mod:`.validate`). Every problem found on the way carries its
file, line, column and the path inside the document (:mod:`.locator`). ``load`` raises
:class:`SpecError`; ``check`` returns the report (warnings included) for ``naftiko validate``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Problem, SpecError
from .ikanos import read_spelling
from .imports import Imports
from .locator import Locator
from .model_build import build_document
from .models import Document
from .normalize import normalize
from .source import DocPath, Source, YamlSyntaxError, parse_yaml, read_yaml
from .unknown_keys import unknown_keys
from .validate import check_document


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


class _Loading:
    def __init__(self, source: Source, strict: bool, base_dir: Path | None = None) -> None:
        self.source = source
        self.strict = strict
        self._base_dir = base_dir
        self.locator = Locator(source)
        self.problems: list[Problem] = []

    @property
    def base_dir(self) -> Path:
        """Where relative import locations start; resolved only when a document imports something."""
        if self._base_dir is None:
            self._base_dir = self.source.directory if not self.source.file.startswith("<") else Path.cwd()
        return self._base_dir

    def error(self, path: DocPath, message: str, rule: str) -> None:
        self.problems.append(self.locator.problem(path, message, rule=rule))

    def warn(self, path: DocPath, message: str, rule: str) -> None:
        self.problems.append(self.locator.problem(path, message, severity="warning", rule=rule))

    def run(self) -> LoadReport:
        if self.strict:
            from .schema import schema_problems

            self.problems.extend(schema_problems(self.source))
        self.problems.extend(read_spelling(self.source))
        data, normalized = normalize(self.source)
        self.problems.extend(normalized)
        document = None
        if data is not None:
            imports = Imports(self.source, self.locator, lambda: self.base_dir)
            imports.resolve(data)
            self.problems.extend(imports.problems)
            built = build_document(data, self.locator)
            self.problems.extend(built.problems)
            if built.document is not None:
                document = self._with_source(built.document)
                self._unknown_keys(document)
                original = built.original
                check_document(
                    document,
                    built.data,
                    lambda path, message, rule: self.error(original(path), message, rule),
                    lambda path, message, rule: self.warn(original(path), message, rule),
                    lambda path: self.locator.locate(original(path)),
                )
        self.problems.sort(key=lambda p: (p.file != self.source.file, p.file, p.line, p.column))
        if any(p.severity == "error" for p in self.problems):
            document = None
        return LoadReport(self.source.file, document, self.problems, self.locator.problem)

    def _with_source(self, document: Document) -> Document:
        if not self.source.file.startswith("<"):
            return document.model_copy(update={"source_file": str(Path(self.source.file).resolve())})
        if self._base_dir is not None:
            # Text given with a base directory: binds, imports and schema files resolve against it.
            return document.model_copy(
                update={"source_file": str(self._base_dir.resolve() / self.source.file)}
            )
        return document

    def _unknown_keys(self, document: Document) -> None:
        for key_path in unknown_keys(document):
            self.problems.append(
                self.locator.problem(
                    key_path,
                    f"unknown key {key_path[-1]!r} ignored",
                    severity="warning",
                    rule="unknown-key",
                    key=True,
                )
            )
