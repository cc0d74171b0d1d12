"""Where the two spellings of the specification differ, and the walk that turns one into the other.

Naftiko 1.0.0-alpha2 writes named things as lists of ``{name: …}`` entries; Ikanos (1.0.0-alpha3 to
1.0.0-beta5) writes them as maps keyed by name, and renames a few keys (``label`` → ``display``,
``functions`` → ``flows``, ``targetName`` → ``target``, an import's ``location`` → ``from``). Both
mean the same document. :data:`KINDS` says, for every object of the spec, which of its keys differ;
:class:`Conversion` walks a document along it and rewrites it in place into one spelling, reporting
every place written in the other one.

The same walk serves the loader (an Ikanos document is read into the alpha2 shape the models know,
with the way back to the user's own paths for error messages) and ``naftiko migrate`` (in both
directions, on a round-trip YAML tree whose comments must survive): what changes between them is
how containers are made and moved (:class:`Containers`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, MutableMapping, MutableSequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .source import DocPath

Spelling = Literal["alpha2", "ikanos"]
ALPHA2: Spelling = "alpha2"
IKANOS: Spelling = "ikanos"


@dataclass(frozen=True)
class Named:
    """A collection of named entries: a list of ``{name: …}`` in alpha2, a map keyed by name in Ikanos."""

    alpha2: str
    ikanos: str
    kind: str


@dataclass(frozen=True)
class Kind:
    named: tuple[Named, ...] = ()
    objects: tuple[tuple[str, str], ...] = ()  # key → kind of the single object there
    lists: tuple[tuple[str, str], ...] = ()  # key → kind of each item of a plain list (both spellings)
    keyed: tuple[
        tuple[str, str], ...
    ] = ()  # key → kind of each value of a map whose alpha2 values repeat the key as `name`
    renames: tuple[tuple[str, str], ...] = ()  # (alpha2 key, Ikanos key)


def _named(key: str, kind: str, ikanos: str | None = None) -> Named:
    return Named(key, ikanos or key, kind)


_LABEL = (("label", "display"),)
_PARAMS = _named("inputParameters", "param")
_STEPS = _named("steps", "step")
_UNIT = Kind(
    named=(_PARAMS, _STEPS),
    lists=(("mappings", "mapping"),),
    renames=_LABEL,
)  # outputParameters: see Conversion._outputs

KINDS: dict[str, Kind] = {
    "document": Kind(
        objects=(("info", "info"), ("capability", "capability")),
        lists=(
            ("binds", "bind-entry"),
            ("consumes", "consumes-entry"),
            ("exposes", "expose-entry"),
            ("aggregates", "aggregate-entry"),
        ),
    ),
    "capability": Kind(
        lists=(
            ("binds", "bind-entry"),
            ("consumes", "consumes-entry"),
            ("exposes", "expose-entry"),
            ("aggregates", "aggregate-entry"),
        ),
    ),
    "info": Kind(renames=_LABEL),
    "import": Kind(renames=(("location", "from"),)),
    "bind": Kind(),
    "consumes": Kind(named=(_PARAMS, _named("resources", "consumed-resource"))),
    "consumed-resource": Kind(named=(_PARAMS, _named("operations", "consumed-operation")), renames=_LABEL),
    "consumed-operation": Kind(named=(_PARAMS, _named("outputParameters", "leaf")), renames=_LABEL),
    "rest": Kind(named=(_PARAMS, _named("resources", "rest-resource"))),
    "rest-resource": Kind(named=(_PARAMS, _named("operations", "unit")), renames=_LABEL),
    "mcp": Kind(
        named=(
            _named("tools", "unit"),
            _named("resources", "mcp-resource"),
            _named("prompts", "prompt"),
        ),
    ),
    "mcp-resource": Kind(named=(_STEPS,), lists=(("mappings", "mapping"),), renames=_LABEL),
    "prompt": Kind(
        named=(_named("arguments", "prompt-argument"),),
        lists=(("template", "prompt-message"),),
        renames=_LABEL,
    ),
    "prompt-argument": Kind(renames=_LABEL),
    "prompt-message": Kind(named=(_STEPS,), lists=(("mappings", "mapping"),)),
    "skill-expose": Kind(named=(_named("skills", "skill"),)),
    "skill": Kind(named=(_named("tools", "leaf"),)),
    "aggregate": Kind(named=(_named("functions", "unit", "flows"),), renames=_LABEL),
    "unit": _UNIT,
    "mapping": Kind(renames=(("targetName", "target"),)),
    "orchestrated-output": Kind(
        named=(_named("items", "orchestrated-output"),),
        keyed=(("properties", "orchestrated-output"),),
    ),
    "param": Kind(),
    "step": Kind(),
    "leaf": Kind(),
}

_EXPOSE_KINDS = {"rest": "rest", "mcp": "mcp", "skill": "skill-expose"}
_ENTRY_KINDS = {
    "bind-entry": "bind",
    "consumes-entry": "consumes",
    "aggregate-entry": "aggregate",
}


def is_import(entry: Any, *, bind: bool = False) -> bool:
    """``{location|from, import, as}``: an entry defined in another file. A bind has a ``location``
    of its own, and a consumes entry of the dialect may carry ``location`` beside its ``baseUri``."""
    if not isinstance(entry, MutableMapping):
        return False
    if "import" in entry or bind:
        return "import" in entry
    return ("location" in entry or "from" in entry) and not {"baseUri", "type", "namespace"} & entry.keys()


def entry_kind(section: str, entry: Any) -> str | None:
    """The kind of one entry of ``binds``/``consumes``/``exposes``/``aggregates``."""
    if not isinstance(entry, MutableMapping):
        return None
    if is_import(entry, bind=section == "bind-entry"):
        return "import"
    if section == "expose-entry":
        kind = entry.get("type")
        return _EXPOSE_KINDS.get(kind.lower()) if isinstance(kind, str) else None
    return _ENTRY_KINDS[section]


def outputs_are_named(unit: MutableMapping[str, Any]) -> bool:
    """Orchestrated (``steps``) and mock (no ``call``, no ``ref``) units name their outputs; a unit
    with ``call`` maps its answer with unnamed outputs (the same list in both spellings)."""
    if unit.get("steps"):
        return True
    return not unit.get("call") and not unit.get("ref")


def step_type(step: MutableMapping[str, Any]) -> str | None:
    """The ``type`` a step without one has, by the key only that type has."""
    for key, kind in (("call", "call"), ("index", "lookup"), ("file", "script")):
        if key in step:
            return kind
    return None


# --- containers -----------------------------------------------------------------------------------


class Containers:
    """How containers are made and changed: plain ``dict``/``list`` here; ``naftiko migrate``
    subclasses it for round-trip YAML nodes, moving comments along."""

    def mapping(self) -> MutableMapping[str, Any]:
        return {}

    def sequence(self) -> MutableSequence[Any]:
        return []

    def rename(self, owner: MutableMapping[str, Any], old: str, new: str) -> None:
        """``owner[old]`` becomes ``owner[new]`` at the same place among the keys."""
        items = list(owner.items())
        owner.clear()
        for key, value in items:
            owner[new if key == old else key] = value

    def with_name_first(
        self, entry: MutableMapping[str, Any], key_field: str, name: Any
    ) -> MutableMapping[str, Any]:
        """``entry`` with ``key_field: name`` as its first key."""
        out = self.mapping()
        out[key_field] = name
        for key, value in entry.items():
            if key != key_field:
                out[key] = value
        return out

    def moved_entry(self, source: Any, index_or_key: Any, target: Any, new_key: Any) -> None:
        """Hook: an entry moved between a list and a map (comments follow it in migrate)."""


# --- the walk -------------------------------------------------------------------------------------


@dataclass
class Site:
    """A place written in one spelling: ``path`` in the document as written."""

    path: DocPath
    spelling: Spelling
    what: str
    key: bool = False
    ignored: bool = False  # a `name` inside an entry keyed by name: no spelling has it


Alias = Callable[[DocPath, DocPath, bool], None]
"""``(converted path, path as written, points at a key)``: called for each node the walk moves."""


@dataclass
class Conversion:
    """Rewrites a document in place into ``target``; records where each spelling was used."""

    target: Spelling
    containers: Containers = field(default_factory=Containers)
    alias: Alias | None = None
    sites: list[Site] = field(default_factory=list)
    key_field: str = "name"
    expected: Spelling | None = None  # the document's own: only the places in the other are recorded

    def run(self, document: MutableMapping[str, Any]) -> list[Site]:
        self._object(document, "document", (), ())
        return self.sites

    # -- recording ---------------------------------------------------------------------------------

    def _saw(
        self, spelling: Spelling, path: DocPath, what: str, *, key: bool = False, ignored: bool = False
    ) -> None:
        if spelling != self.expected or ignored:
            self.sites.append(Site(path, spelling, what, key, ignored))

    def _moved(self, new: DocPath, old: DocPath, key: bool = False) -> None:
        if self.alias is not None and (new != old or key):
            self.alias(new, old, key)

    # -- objects -----------------------------------------------------------------------------------

    def _object(self, node: Any, kind_name: str, new: DocPath, old: DocPath) -> None:
        if not isinstance(node, MutableMapping):
            return
        kind = KINDS[kind_name]
        for alpha2, ikanos in kind.renames:
            self._rename(node, alpha2, ikanos, new, old)
        for named in kind.named:
            self._named(node, named, new, old)
        for key, child in kind.objects:
            if key in node:
                self._object(node[key], child, (*new, key), (*old, key))
        for key, child in kind.lists:
            items = node.get(key)
            if isinstance(items, MutableSequence):
                for index, item in enumerate(items):
                    item_kind = entry_kind(child, item) if child.endswith("-entry") else child
                    if item_kind is not None:
                        self._object(item, item_kind, (*new, key, index), (*old, key, index))
        for key, child in kind.keyed:
            self._keyed(node, key, child, new, old)
        if kind_name in ("unit", "mcp-resource", "prompt-message"):
            self._outputs(node, new, old)

    def _rename(
        self, node: MutableMapping[str, Any], alpha2: str, ikanos: str, new: DocPath, old: DocPath
    ) -> None:
        written, wanted = (ikanos, alpha2) if self.target == ALPHA2 else (alpha2, ikanos)
        for key, spelling in ((alpha2, ALPHA2), (ikanos, IKANOS)):
            if key in node:
                self._saw(spelling, (*old, key), f"`{key}`", key=True)
        if written in node and wanted not in node:
            self.containers.rename(node, written, wanted)
            self._moved((*new, wanted), (*old, written))

    def _named(self, node: MutableMapping[str, Any], named: Named, new: DocPath, old: DocPath) -> None:
        written = named.ikanos if named.ikanos in node else named.alpha2
        if written not in node:
            return
        if named.alpha2 != named.ikanos:
            spelling = IKANOS if written == named.ikanos else ALPHA2
            self._saw(spelling, (*old, written), f"`{written}`", key=True)
        wanted = named.alpha2 if self.target == ALPHA2 else named.ikanos
        kept = wanted if written != wanted and wanted not in node else written
        old_at, new_at = (*old, written), (*new, kept)
        collection = node[written]
        if named.kind == "orchestrated-output" and _is_one_parameter(collection):
            self._object(collection, named.kind, (*new, written), old_at)  # `items: {type: …}`
            return
        converted = collection
        # Where the spellings name the collection differently, its key already says which one,
        # unless its form says the other.
        key_says = None if named.alpha2 == named.ikanos else (IKANOS if written == named.ikanos else ALPHA2)
        form_says = ALPHA2 if isinstance(collection, MutableSequence) else IKANOS
        form_tells = key_says is None or key_says != form_says
        if isinstance(collection, MutableSequence):
            if collection and form_tells:
                self._saw(ALPHA2, old_at, f"`{written}` as a list of named entries", key=True)
            if self.target == IKANOS:
                converted = self._to_map(collection, named, new_at, old_at, node)
            else:
                for index, entry in enumerate(collection):
                    self._object(entry, named.kind, (*new_at, index), (*old_at, index))
        elif isinstance(collection, MutableMapping):
            if collection and form_tells:
                self._saw(IKANOS, old_at, f"`{written}` as a map keyed by name", key=True)
            if self.target == ALPHA2:
                converted = self._to_list(collection, named, new_at, old_at)
            else:
                for name, entry in collection.items():
                    self._object(entry, named.kind, (*new_at, name), (*old_at, name))
        if converted is not collection:
            node[written] = converted
        if kept != written:
            self.containers.rename(node, written, kept)
            self._moved(new_at, old_at)

    def _to_list(self, collection: MutableMapping[str, Any], named: Named, new: DocPath, old: DocPath) -> Any:
        out = self.containers.sequence()
        for index, (name, entry) in enumerate(collection.items()):
            item_new, item_old = (*new, index), (*old, name)
            item = entry
            if isinstance(entry, MutableMapping):
                if self.key_field in entry and entry[self.key_field] != name:
                    what = f"`{self.key_field}` inside an entry keyed by name"
                    self._saw(ALPHA2, (*item_old, self.key_field), what, key=True, ignored=True)
                item = self.containers.with_name_first(entry, self.key_field, name)
                self._moved((*item_new, self.key_field), item_old, key=True)
            # A problem with the entry as a whole points at its key, which is its name.
            self._moved(item_new, item_old, key=True)
            self.containers.moved_entry(collection, name, out, index)
            out.append(item)
            self._object(item, named.kind, item_new, item_old)
        return out

    def _to_map(
        self,
        collection: MutableSequence[Any],
        named: Named,
        new: DocPath,
        old: DocPath,
        owner: MutableMapping[str, Any],
    ) -> Any:
        out = self.containers.mapping()
        taken: set[str] = set()
        for index, entry in enumerate(collection):
            if not isinstance(entry, MutableMapping):
                continue
            name = entry.get(self.key_field)
            if name is not None and str(name) not in taken:
                key = str(name)
            else:
                key = generated_key(entry, taken, named.kind, owner, index)
            taken.add(key)
            if self.key_field in entry:
                del entry[self.key_field]
            self.containers.moved_entry(collection, index, out, key)
            out[key] = entry
            self._object(entry, named.kind, (*new, key), (*old, index))
        return out

    def _keyed(self, node: MutableMapping[str, Any], key: str, kind: str, new: DocPath, old: DocPath) -> None:
        values = node.get(key)
        if not isinstance(values, MutableMapping):
            return
        for name, value in list(values.items()):
            if not isinstance(value, MutableMapping):
                continue
            if self.target == ALPHA2 and self.key_field not in value:
                values[name] = self.containers.with_name_first(value, self.key_field, name)
            elif self.target == IKANOS and value.get(self.key_field) == name:
                del value[self.key_field]
            self._object(values[name], kind, (*new, key, name), (*old, key, name))

    def _outputs(self, unit: MutableMapping[str, Any], new: DocPath, old: DocPath) -> None:
        outputs = unit.get("outputParameters")
        named = isinstance(outputs, MutableMapping) or (
            isinstance(outputs, MutableSequence) and outputs_are_named(unit)
        )
        if named:
            self._named(unit, _OUTPUTS, new, old)


_OUTPUTS = _named("outputParameters", "orchestrated-output")


def _is_one_parameter(value: Any) -> bool:
    """``items: {type: object, …}`` describes the items themselves, not a map of named fields (whose
    values, ``type`` included, would be mappings)."""
    return isinstance(value, MutableMapping) and isinstance(value.get("type"), str)


_SLUG = re.compile(r"[^A-Za-z0-9]+")


_LAST_NAME = re.compile(r"([A-Za-z0-9_-]+)['\"\]]*$")


def generated_key(
    entry: MutableMapping[str, Any], taken: set[str], kind: str, owner: MutableMapping[str, Any], index: int
) -> str:
    """A key for an alpha2 entry without ``name``: REST resources and operations may lack one, and
    an output is keyed as the runtime keys its value (the last name of its JSONPath)."""
    if kind == "orchestrated-output":
        found = _LAST_NAME.search(str(entry.get("mapping") or ""))
        base = found.group(1) if found else f"value{index + 1}"
    else:
        parts = [str(entry.get("method", "")).lower()] if kind == "unit" else []
        parts.append(str(entry.get("path") or owner.get("path") or ""))
        base = _SLUG.sub("-", "-".join(p for p in parts if p)).strip("-").lower() or kind
    key, counter = base, 2
    while key in taken:
        key, counter = f"{base}-{counter}", counter + 1
    return key
