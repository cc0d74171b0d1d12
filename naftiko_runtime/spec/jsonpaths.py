"""Every JSONPath in a document compiles, or the document is refused at the place it is written.

The runtime compiles these expressions when it builds a unit; one that does not parse would stop
``serve`` with no location, or fail every request. The strings checked here are exactly the ones the
engine compiles: output ``mapping``s, consumed outputs' ``value``, ``with`` paths, step mappings that
are not templates, lookup values that are paths, and REST inputs extracted from the body (``$...``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..expressions import JsonPathSyntaxError, compile_path
from .models import (
    ConsumedOutputParameter,
    ExposedInputParameter,
    OutputParameter,
    PathRef,
    SpecModel,
    StepLookup,
    StepOutputMapping,
)
from .source import DocPath
from .walk import models

Report = Callable[[DocPath, str, str], None]

RULE = "invalid-jsonpath"


def check_jsonpaths(document: SpecModel, error: Report) -> None:
    for path, expression in _expressions(document):
        try:
            compile_path(expression)
        except JsonPathSyntaxError as exc:
            error(path, f"invalid JSONPath {expression!r}: {exc.reason}", RULE)


def is_lookup_path(text: str) -> bool:
    """A lookup's ``lookupValue`` that is a JSONPath (``$.step.x`` or ``{{$.step.x}}``), not a name."""
    stripped = text.strip()
    return stripped.startswith("$") or (stripped.startswith("{{") and stripped[2:].lstrip().startswith("$"))


def _expressions(document: SpecModel) -> Iterator[tuple[DocPath, str]]:
    for path, node in models(document):
        if isinstance(node, OutputParameter) and node.mapping is not None:
            yield (*path, "mapping"), node.mapping
        elif isinstance(node, ConsumedOutputParameter):
            yield (*path, "value"), node.value
        elif isinstance(node, PathRef):
            yield path, node.path
        elif isinstance(node, StepOutputMapping) and "{{" not in node.value:
            yield (*path, "value"), node.value
        elif isinstance(node, StepLookup) and is_lookup_path(node.lookup_value):
            yield (*path, "lookupValue"), node.lookup_value
        elif isinstance(node, ExposedInputParameter) and node.value and node.value.startswith("$"):
            yield (*path, "value"), node.value
