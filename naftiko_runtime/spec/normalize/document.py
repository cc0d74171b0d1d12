"""The root of a document for the tolerant reader: whether it is a Naftiko document at all, its version,
`info` and `binds`, then the walk into `consumes`, `exposes` and `aggregates` (a capability's, or
those at the root of a shared file reached through an import).
"""

from __future__ import annotations

from typing import Any

from ...errors import Problem
from ..forms import is_import
from ..source import DocPath, Source
from .consumes import rewrite_consumes
from .exposes import rewrite_expose
from .rewriter import Rewriter, items
from .units import rewrite_tool_params, rewrite_unit, unit_context

SPEC_VERSION = "1.0.0-alpha2"
KNOWN_VERSIONS = {"1.0.0-alpha2", "1.0.0-alpha3", "1.0.0-alpha1", "0.5", "0.4"}
SHARED_SECTIONS = frozenset({"consumes", "exposes", "aggregates", "binds"})  # of a shared (imported) file


def normalize(source: Source, *, consumes_only: bool = False) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Rewrite ``source.data`` in place into the canonical shape, with the problems found (errors and
    warnings); the data is ``None`` when the file is not a Naftiko document at all. ``consumes_only``
    for a file reached through an import, which may be a bare root `consumes` block."""
    rw = Rewriter(source)
    return _document(rw, source.data, consumes_only), rw.problems


def _document(rw: Rewriter, data: Any, consumes_only: bool) -> dict[str, Any] | None:
    for dup in rw.source.duplicate_keys:
        rw.warn(dup, "duplicate key; the last value is used", rule="duplicate-key", key=True)
    if not isinstance(data, dict) or not (
        {"naftiko", "ikanos", "capability"} & data.keys() or (consumes_only and SHARED_SECTIONS & data.keys())
    ):
        found = (
            "an empty file"
            if data is None
            else (
                f"a YAML {type(data).__name__}"
                if not isinstance(data, dict)
                else "top-level keys " + ", ".join(sorted(map(str, data))[:8])
            )
        )
        rw.error(
            (),
            f"not a Naftiko document: expected a `naftiko`, `ikanos` or `capability` key, found {found}",
            rule="not-naftiko",
        )
        return None
    _version(rw, data)
    if isinstance(data.get("info"), dict):
        _info(rw, data["info"], ("info",))
    _binds(rw, data, ())
    if "consumes" in data:
        rewrite_consumes(rw, data, ("consumes",))
    capability = data.get("capability")
    if capability is not None:
        if isinstance(capability, dict):
            _capability(rw, capability, ("capability",))
        else:
            rw.error(("capability",), "`capability` must be a mapping", rule="type")
            data.pop("capability")
    else:
        _shared_sections(rw, data)
    rw.report_dialect()
    return data


def _version(rw: Rewriter, data: dict[str, Any]) -> None:
    if "ikanos" in data:
        return  # an Ikanos document: its version was read with its spelling (ikanos.py)
    version = data.get("naftiko")
    if version is None:
        rw.warn((), f"no `naftiko` version; read as {SPEC_VERSION}", rule="version")
        return
    if not isinstance(version, str):
        version = data["naftiko"] = str(version)
    if version != SPEC_VERSION:
        known = "an earlier" if version in KNOWN_VERSIONS else "an unknown"
        rw.warn(
            ("naftiko",),
            f"document declares {known} version {version!r}; read as {SPEC_VERSION}",
            rule="version",
        )


def _info(rw: Rewriter, info: dict[str, Any], path: DocPath) -> None:
    if "title" in info and "label" not in info:
        rw.dialect("info-title", (*path, "title"))
        rw.rename(info, path, "title", "label")
    if "label" not in info:
        rw.warn(path, "`info.label` is required by the spec", rule="schema")
    rw.stringify(info, path, ("label", "description", "created", "modified"))
    if isinstance(info.get("tags"), list):
        info["tags"] = [str(t) for t in info["tags"]]


def _binds(rw: Rewriter, owner: dict[str, Any], path: DocPath) -> None:
    binds = owner.get("binds")
    if binds is None:
        return
    if not isinstance(binds, list):
        rw.error((*path, "binds"), "`binds` must be a list", rule="type")
        owner.pop("binds")
        return
    if path:
        rw.dialect("capability-binds", (*path, "binds"))
    for bind in binds:
        if is_import(bind, bind=True):
            continue  # resolved by the loader
        if isinstance(bind, dict) and isinstance(bind.get("keys"), dict):
            bind["keys"] = {str(k): "" if v is None else str(v) for k, v in bind["keys"].items()}


def _capability(rw: Rewriter, capability: dict[str, Any], path: DocPath) -> None:
    _binds(rw, capability, path)
    if "consumes" in capability:
        rewrite_consumes(rw, capability, (*path, "consumes"))
    _exposes_and_aggregates(rw, capability, path)


def _shared_sections(rw: Rewriter, data: dict[str, Any]) -> None:
    """A shared file (Ikanos) may hold `exposes` and `aggregates` at its root, read as a capability's."""
    _exposes_and_aggregates(rw, data, ())


def _exposes_and_aggregates(rw: Rewriter, capability: dict[str, Any], path: DocPath) -> None:
    exposes = capability.get("exposes")
    aggregates = capability.get("aggregates")
    expose_namespaces = [e.get("namespace") for e in items(exposes) if isinstance(e, dict)]
    aggregate_namespaces = [a.get("namespace") for a in items(aggregates) if isinstance(a, dict)]
    namespaces = frozenset(str(n) for n in [*expose_namespaces, *aggregate_namespaces] if n and _is_scalar(n))
    if isinstance(exposes, list):
        kept = []
        for index, expose in enumerate(exposes):
            if is_import(expose) or rewrite_expose(rw, expose, (*path, "exposes", index), namespaces):
                kept.append(expose)
        capability["exposes"] = kept
    if isinstance(aggregates, list):
        for a_index, aggregate in enumerate(aggregates):
            apath = (*path, "aggregates", a_index)
            if not isinstance(aggregate, dict) or is_import(aggregate):
                continue
            context = unit_context(namespaces, aggregate.get("namespace"))
            for f_index, function in enumerate(items(aggregate.get("functions"))):
                if isinstance(function, dict):
                    rewrite_unit(rw, function, (*apath, "functions", f_index), context)
                    rewrite_tool_params(rw, function, (*apath, "functions", f_index))


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list))
