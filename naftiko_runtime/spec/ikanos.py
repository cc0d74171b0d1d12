"""Documents of the framework's current spec, Ikanos (``ikanos: "1.0.0-beta5"`` and the versions between).

The Naftiko framework was renamed Ikanos after 1.0.0-alpha2. Its documents say the same things in
another spelling (see :mod:`.forms`): :func:`read_spelling` reshapes one into the alpha2 shape the
models know, in place, before anything else reads it, and leaves the way back to the user's own paths
and lines on the :class:`~.source.Source`, so every later problem points at what was written (in a
map keyed by name, at the key). It also refuses what cannot be served as declared:

- a document mixing both spellings (an ``ikanos:`` document with ``tools`` as a list, a ``naftiko:``
  document with ``display``…): which one the author meant is a guess, so it is an error that names
  both forms;
- ``tunnel`` (an OpenZiti reverse tunnel): this runtime cannot dial one, and going around it to the
  ``baseUri`` would reach another network than the author chose.

The versions between 1.0.0-alpha3 and 1.0.0-beta5 differ by additions only (the schema at each tag):
a key used before its version is read, with a warning (an error under ``--strict``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import Problem
from .forms import ALPHA2, IKANOS, Conversion, Site, Spelling
from .source import DocPath, Source

IKANOS_VERSIONS = (
    "1.0.0-alpha3",
    "1.0.0-alpha4",
    "1.0.0-beta1",
    "1.0.0-beta2",
    "1.0.0-beta3",
    "1.0.0-beta4",
    "1.0.0-beta5",
)
CURRENT_IKANOS = IKANOS_VERSIONS[-1]
ALPHA2_VERSION = "1.0.0-alpha2"

# What each Ikanos version added, by the key that says it (the schemas of the tags, diffed).
_SINCE = {
    "maxBinarySize": "1.0.0-beta1",
    "outputMediaType": "1.0.0-beta1",
    "responses": "1.0.0-beta1",
    "responseBinary": "1.0.0-beta1",
    "binary": "1.0.0-beta1",
    "outputRawFormat: binary": "1.0.0-beta1",
    "ttlMs": "1.0.0-beta4",
    "cacheScope": "1.0.0-beta4",
    "version": "1.0.0-beta4",
}
_NAMES = {ALPHA2: f"Naftiko {ALPHA2_VERSION}", IKANOS: "Ikanos"}


def declared_spelling(data: Any) -> tuple[Spelling | None, str | None]:
    """The spelling and version a document declares by its first key (``naftiko`` or ``ikanos``)."""
    if not isinstance(data, Mapping):
        return None, None
    if "ikanos" in data:
        return IKANOS, str(data["ikanos"])
    if "naftiko" in data:
        return ALPHA2, str(data["naftiko"])
    return None, None


def read_spelling(source: Source) -> list[Problem]:
    """Reshape ``source.data`` into the alpha2 shape in place; the problems of its spelling."""
    data = source.data
    if not isinstance(data, dict):
        return []
    problems: list[Problem] = []
    spelling, version = declared_spelling(data)
    if "ikanos" in data and "naftiko" in data:
        problems.append(
            source.problem(
                ("ikanos",),
                "mixed spec forms: the document declares both `naftiko` and `ikanos`; one document is "
                "written in one spec (`naftiko migrate` converts between them)",
                rule="mixed-spec-forms",
                key=True,
            )
        )
    if spelling == IKANOS:
        problems += _version_problems(source, data, version or "")

    def alias(new: DocPath, old: DocPath, key: bool) -> None:
        source.aliases[new] = (old, key)

    conversion = Conversion(ALPHA2, alias=alias, expected=spelling)
    sites = conversion.run(data)
    problems += _mixed(source, sites, spelling, version)
    problems += _tunnels(source, data)
    return problems


# --- versions -------------------------------------------------------------------------------------


def _version_problems(source: Source, data: dict[str, Any], version: str) -> list[Problem]:
    if version not in IKANOS_VERSIONS:
        return [
            source.problem(
                ("ikanos",),
                f"unknown Ikanos version {version!r} (known: {', '.join(IKANOS_VERSIONS)}); "
                f"read as {CURRENT_IKANOS}",
                severity="warning",
                rule="version",
            )
        ]
    return [
        source.problem(
            path,
            f"`{feature}` arrived in Ikanos {since}; this document declares {version} (read anyway)",
            severity="warning",
            rule="version",
            key=True,
        )
        for path, feature, since in later_features(data, version)
    ]


def later_features(data: Any, version: str) -> list[tuple[DocPath, str, str]]:
    """``(path, feature, version that added it)`` for each key of an Ikanos document (as written)
    that its declared ``version`` does not have yet."""
    if version not in IKANOS_VERSIONS:
        return []
    rank = IKANOS_VERSIONS.index(version)
    found: list[tuple[DocPath, str, str]] = []

    def check(owner: Any, path: DocPath, *keys: str) -> None:
        if not isinstance(owner, Mapping):
            return
        for key in keys:
            feature = key
            if key == "outputRawFormat":
                if owner.get(key) != "binary":
                    continue
                feature = "outputRawFormat: binary"
            since = _SINCE[feature]
            if key in owner and IKANOS_VERSIONS.index(since) > rank:
                found.append(((*path, key), feature, since))

    check(data.get("info"), ("info",), "version")
    for section, path in _sections(data):
        for entry_path, entry in _entries(section, path):
            kind = entry.get("type")
            if kind in (None, "http") and ("baseUri" in entry or "resources" in entry):
                for rpath, resource in _entries(entry.get("resources"), (*entry_path, "resources")):
                    for opath, operation in _entries(resource.get("operations"), (*rpath, "operations")):
                        check(operation, opath, "maxBinarySize", "outputMediaType", "outputRawFormat")
            if kind == "rest":
                check(entry, entry_path, "maxBinarySize")
                for rpath, resource in _entries(entry.get("resources"), (*entry_path, "resources")):
                    for opath, operation in _entries(resource.get("operations"), (*rpath, "operations")):
                        check(operation, opath, "responses", "responseBinary")
            elif kind == "mcp":
                check(entry, entry_path, "maxBinarySize", "ttlMs", "cacheScope")
                for rpath, resource in _entries(entry.get("resources"), (*entry_path, "resources")):
                    check(resource, rpath, "binary")
            for fpath, flow in _entries(entry.get("flows"), (*entry_path, "flows")):
                check(flow, fpath, "outputMediaType")
    return found


def _sections(data: Mapping[str, Any]) -> Iterator[tuple[Any, DocPath]]:
    owners: list[tuple[Any, DocPath]] = [(data, ())]
    if isinstance(data.get("capability"), Mapping):
        owners.append((data["capability"], ("capability",)))
    for owner, path in owners:
        for key in ("consumes", "exposes", "aggregates"):
            if key in owner:
                yield owner[key], (*path, key)


def _entries(collection: Any, path: DocPath) -> Iterator[tuple[DocPath, Mapping[str, Any]]]:
    """The mapping entries of a list or of a map keyed by name, with their paths."""
    if isinstance(collection, Mapping):
        items: Any = collection.items()
    elif isinstance(collection, list):
        items = enumerate(collection)
    else:
        return
    for key, entry in items:
        if isinstance(entry, Mapping):
            yield (*path, key), entry


# --- mixed forms ----------------------------------------------------------------------------------


def _mixed(
    source: Source, sites: list[Site], declared: Spelling | None, version: str | None
) -> list[Problem]:
    forms = [s for s in sites if not s.ignored]
    problems = [
        source.problem(
            s.path,
            f"{s.what}: the key of the entry is its name; this `name` is ignored",
            severity="warning",
            rule="unknown-key",
            key=True,
        )
        for s in sites
        if s.ignored
    ]
    if declared is None:
        ikanos = sum(s.spelling == IKANOS for s in forms)
        declared = IKANOS if ikanos > len(forms) - ikanos else ALPHA2
        said = f"is otherwise written in the {_NAMES[declared]} form"
    else:
        key = "ikanos" if declared == IKANOS else "naftiko"
        said = f"declares `{key}: {version}`"
    odd: dict[str, list[Site]] = {}
    for site in forms:
        if site.spelling != declared:
            odd.setdefault(site.what, []).append(site)
    for what, places in odd.items():
        first = places[0]
        more = f" (and {len(places) - 1} more places)" if len(places) > 1 else ""
        problems.append(
            source.problem(
                first.path,
                f"mixed spec forms: {what} is the {_NAMES[first.spelling]} form, but this document "
                f"{said}{more}; write the whole document in one form (`naftiko migrate` converts it)",
                rule="mixed-spec-forms",
                key=first.key,
            )
        )
    return problems


# --- tunnel ---------------------------------------------------------------------------------------


def _tunnels(source: Source, data: Mapping[str, Any]) -> list[Problem]:
    problems = []
    for section, path in _sections(data):
        if path[-1] != "consumes":
            continue
        for entry_path, entry in _entries(section, path):
            if "tunnel" in entry:
                problems.append(
                    source.problem(
                        (*entry_path, "tunnel"),
                        "`tunnel` (an OpenZiti reverse tunnel) cannot be served by this runtime: it "
                        "would send the requests to `baseUri` directly, around the tunnel. Run a "
                        "Ziti tunneller beside it and point the namespace at it (`--base-uri "
                        f"{entry.get('namespace')}=URL`), without `tunnel`",
                        rule="unsupported-tunnel",
                        key=True,
                    )
                )
                if isinstance(entry, dict):
                    entry.pop("tunnel")
    return problems
