"""Units that ``ref`` an aggregate function should not say the opposite of its ``semantics``.

A function declares what it is (``safe``, ``idempotent``); a tool's ``hints`` or a REST operation's
method that contradicts it misleads agents and caches (a "safe" function behind ``DELETE``, a
"read-only" tool over an unsafe function). The Ikanos ruleset warns about it
(``ikanos-aggregate-semantics-consistency``); so do we, for both spellings.
"""

from __future__ import annotations

from collections.abc import Callable

from .models import Document, McpExpose, RestExpose, Semantics
from .source import DocPath

Report = Callable[[DocPath, str, str], None]
RULE = "semantics-consistency"


def check_semantics_consistency(document: Document, warn: Report) -> None:
    capability = document.capability
    if capability is None:
        return
    semantics: dict[str, Semantics] = {
        f"{aggregate.namespace}.{function.name}": function.semantics
        for aggregate in capability.aggregates
        for function in aggregate.functions
        if function.semantics is not None
    }
    if not semantics:
        return
    for index, expose in enumerate(capability.exposes):
        path: DocPath = ("capability", "exposes", index)
        if isinstance(expose, McpExpose):
            for t_index, tool in enumerate(expose.tools):
                declared = semantics.get(tool.ref or "")
                if declared is not None and tool.hints is not None:
                    hints_path = (*path, "tools", t_index, "hints")
                    for key, message in _hint_conflicts(declared, tool.hints):
                        warn((*hints_path, key), f"function {tool.ref!r}: {message}", RULE)
        elif isinstance(expose, RestExpose):
            for r_index, resource in enumerate(expose.resources):
                for o_index, operation in enumerate(resource.operations):
                    declared = semantics.get(operation.ref or "")
                    if declared is None:
                        continue
                    where = (*path, "resources", r_index, "operations", o_index, "method")
                    for message in _method_conflicts(declared, operation.method):
                        warn(where, f"function {operation.ref!r}: {message}", RULE)


def _hint_conflicts(semantics: Semantics, hints: object) -> list[tuple[str, str]]:
    read_only = getattr(hints, "read_only", None)
    destructive = getattr(hints, "destructive", None)
    idempotent = getattr(hints, "idempotent", None)
    found = []
    if semantics.safe is True and read_only is False:
        found.append(("readOnly", "semantics.safe is true but the tool's hints say readOnly: false"))
    if semantics.safe is False and read_only is True:
        found.append(("readOnly", "semantics.safe is false but the tool's hints say readOnly: true"))
    if semantics.safe is True and destructive is True:
        found.append(("destructive", "semantics.safe is true but the tool's hints say destructive: true"))
    if semantics.idempotent is not None and idempotent is not None and semantics.idempotent != idempotent:
        found.append(
            (
                "idempotent",
                f"semantics.idempotent is {str(semantics.idempotent).lower()} but the tool's hints say "
                f"idempotent: {str(idempotent).lower()}",
            )
        )
    return found


def _method_conflicts(semantics: Semantics, method: str) -> list[str]:
    found = []
    if semantics.safe is True and method != "GET":
        found.append(f"semantics.safe is true but the operation uses {method}; a safe function is a GET")
    if semantics.safe is False and method == "GET":
        found.append("semantics.safe is false but the operation uses GET, which clients treat as safe")
    if semantics.idempotent is True and method == "POST":
        found.append("semantics.idempotent is true but the operation uses POST, which is not idempotent")
    return found
