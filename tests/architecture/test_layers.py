"""The arrows between the rooms of ``naftiko_runtime`` point one way (docs/ARCHITECTURE.md).

Every ``import`` in the package, including those inside functions and under ``TYPE_CHECKING``, is
read with :mod:`ast`; an import from one room into a room that is not below it fails the test,
naming the file, the line and both rooms. Rooms on the same layer do not import each other.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "naftiko_runtime"

# Lowest first. A room may import any room on a lower layer, and itself.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "version", "locations", "urichars"),  # plain modules at the package root
    ("expressions",),
    ("binds",),
    ("spec",),
    ("observability",),  # below consumes and engine: they report upstream and unit time through it
    ("consumes",),
    ("engine",),
    ("exposes",),
    ("runtime",),
    ("importers", "migrate"),  # document tools: migrate builds a runtime to read inferred inputs
    ("cli", "embedding"),  # embedding: build() and invoke(), which the facade re-exports
)
RANK = {room: rank for rank, rooms in enumerate(LAYERS) for room in rooms}


@dataclass(frozen=True)
class Arrow:
    source: str  # file, relative to the package
    line: int
    importer: str  # room
    imported: str  # room


def _room(module: str) -> str | None:
    """``naftiko_runtime.exposes.rest.app`` → ``exposes``; the package itself has no room."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "naftiko_runtime" else None


def _module(path: Path, package: Path) -> tuple[str, bool]:
    relative = path.relative_to(package.parent).with_suffix("")
    is_package = relative.name == "__init__"
    parts = relative.parts[:-1] if is_package else relative.parts
    return ".".join(parts), is_package


def _imported(node: ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    if node.level == 0:
        return [node.module or ""]
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - node.level + 1]
    target = ".".join([*base, *([node.module] if node.module else [])])
    if node.module:
        return [target]
    return [f"{target}.{alias.name}" for alias in node.names]  # `from .. import locations`


def arrows(package: Path = PACKAGE) -> list[Arrow]:
    found: list[Arrow] = []
    for path in sorted(package.rglob("*.py")):
        module, is_package = _module(path, package)
        importer = _room(module)
        if importer is None:
            continue  # naftiko_runtime/__init__.py: the public facade, above every room
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                targets = _imported(node, module, is_package)
            else:
                continue
            for target in targets:
                imported = _room(target)
                if imported is not None and imported != importer:
                    found.append(Arrow(str(path.relative_to(package)), node.lineno, importer, imported))
    return found


def test_every_room_is_on_a_layer() -> None:
    rooms = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    rooms |= {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert rooms - RANK.keys() == set(), "a new room: put it on a layer here and in docs/ARCHITECTURE.md"


def test_imports_point_down_the_layers() -> None:
    upward = [
        f"{a.source}:{a.line}: {a.importer} imports {a.imported}"
        for a in arrows()
        if RANK[a.imported] >= RANK[a.importer]
    ]
    assert upward == []


def test_the_reader_sees_relative_and_function_level_imports(tmp_path: Path) -> None:
    """The checker itself: an upward import hidden in a function is still an arrow."""
    room = tmp_path / "naftiko_runtime" / "exposes"
    room.mkdir(parents=True)
    (room / "__init__.py").write_text("")
    (room / "adapter.py").write_text("def build():\n    from ..runtime.core import Runtime\n")
    (room / "names.py").write_text("from .. import locations\n")

    found = {(a.source, a.importer, a.imported) for a in arrows(tmp_path / "naftiko_runtime")}

    assert found == {
        ("exposes/adapter.py", "exposes", "runtime"),
        ("exposes/names.py", "exposes", "locations"),
    }
