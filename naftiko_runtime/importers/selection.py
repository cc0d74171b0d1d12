"""Which operations become tools: tags, operation ids, methods, and a ceiling agents can live with.

Agents choose worse among many tools; past a few dozen they degrade. Above
:data:`~.options.TOOL_WARNING_THRESHOLD` tools the import warns and says how to narrow (the tags and
how many operations each has); ``max_tools`` turns that into a refusal.
"""

from __future__ import annotations

from collections import Counter

from .description import Operation
from .diagnostics import Diagnostics, ImportFailed
from .naming import kebab
from .options import TOOL_WARNING_THRESHOLD, ImportOptions


def select(operations: list[Operation], options: ImportOptions, diagnostics: Diagnostics) -> list[Operation]:
    chosen = list(operations)
    if options.include_tags:
        wanted = {t.lower() for t in options.include_tags}
        chosen = [op for op in chosen if wanted & {t.lower() for t in op.tags}]
    if options.exclude_tags:
        unwanted = {t.lower() for t in options.exclude_tags}
        chosen = [op for op in chosen if not unwanted & {t.lower() for t in op.tags}]
    if options.methods:
        methods = {m.upper() for m in options.methods}
        chosen = [op for op in chosen if op.method in methods]
    if options.operations:
        chosen = _by_id(chosen, operations, options.operations)
    narrowed = options.include_tags or options.exclude_tags or options.methods or options.operations
    if narrowed and operations and not chosen:
        raise ImportFailed(
            f"the selection matches none of the {len(operations)} operations; {_advice(operations)}"
        )
    if options.max_tools is not None and len(chosen) > options.max_tools:
        raise ImportFailed(
            f"{len(chosen)} operations selected, more than --max-tools {options.max_tools}; {_advice(chosen)}"
        )
    if options.max_tools is None and len(chosen) > TOOL_WARNING_THRESHOLD:
        diagnostics.warn(
            "#/paths",
            f"{len(chosen)} tools: agents choose worse among more than {TOOL_WARNING_THRESHOLD}; "
            f"{_advice(chosen)}",
            "many-tools",
        )
    return chosen


def identifiers(op: Operation) -> set[str]:
    """What ``--operations`` may call an operation: its operationId, or its generated name."""
    names = {kebab(op.operation_id)} if op.operation_id else set()
    names.add(kebab(f"{op.method} {op.wire_path}"))
    if op.operation_id:
        names.add(op.operation_id)
    return names


def _by_id(chosen: list[Operation], every: list[Operation], wanted: tuple[str, ...]) -> list[Operation]:
    known = {name: op for op in every for name in identifiers(op)}
    missing = [w for w in wanted if w not in known and kebab(w) not in known]
    if missing:
        sample = ", ".join(
            sorted({op.operation_id or kebab(f"{op.method} {op.wire_path}") for op in every})[:20]
        )
        more = ", …" if len(every) > 20 else ""
        raise ImportFailed(f"no operation {', '.join(map(repr, missing))} (operations: {sample}{more})")
    picked = {id(known.get(w) or known[kebab(w)]) for w in wanted}
    return [op for op in chosen if id(op) in picked]


def _advice(operations: list[Operation]) -> str:
    tags = Counter(tag for op in operations for tag in op.tags)
    if tags:
        listing = ", ".join(f"{tag} ({count})" for tag, count in tags.most_common(12))
        return f"narrow with --include-tags (tags: {listing}), --operations or --methods"
    return "narrow with --operations ID,... or --methods GET,..."
