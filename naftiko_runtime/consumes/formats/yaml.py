"""YAML → JSON-like data, with the safe loader (the libyaml C loader when it is available).

Scalars keep their YAML types (``1`` is an int, ``true`` a bool, ``~`` None), as in the reference
engine. Everything a YAML document can hold that JSON cannot is brought back to JSON-like values:

* timestamps stay the strings they were written as (``2026-02-21`` → ``"2026-02-21"``), which is
  what a JSON answer would have carried and what the reference engine (Jackson) returns;
* mapping keys that are not strings become strings (``1: a`` → ``{"1": "a"}``, ``true`` → ``"true"``);
* ``!!binary`` stays its base64 text, ``!!set`` becomes a list, ``!!omap`` a mapping and
  ``!!pairs`` a list of ``[key, value]`` lists.

Aliases are resolved by reference, so an "alias bomb" (anchors nesting anchors) is cheap to load
but expands exponentially when shaped or serialised; documents whose aliases expand to more than
:data:`MAX_EXPANDED_NODES` nodes, or that refer to themselves, are refused.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ._common import FormatError, to_text

try:  # the C loader is several times faster; fall back when PyYAML was built without libyaml
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

MAX_EXPANDED_NODES = 2_000_000
"""Most nodes a document may stand for once its aliases are expanded."""


class JsonLikeLoader(_SafeLoader):
    """The safe loader, producing only values that JSON can represent."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        # As SafeConstructor's, but keys become text as they are read: 1 and true must stay two keys.
        if not isinstance(node, MappingNode):
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a mapping node, but found {node.id}", node.start_mark
            )
        self.flatten_mapping(node)  # resolves merge keys (<<)
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, list | dict):
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found unhashable key",
                    key_node.start_mark,
                )
            mapping[_key_text(key)] = self.construct_object(value_node, deep=deep)
        return mapping


def _scalar_text(loader: JsonLikeLoader, node: ScalarNode) -> str:
    return str(loader.construct_scalar(node))


def _binary_text(loader: JsonLikeLoader, node: ScalarNode) -> str:
    return "".join(str(loader.construct_scalar(node)).split())


def _set_list(loader: JsonLikeLoader, node: Node) -> list[Any]:
    return [loader.construct_object(key, deep=True) for key, _ in node.value]


def _omap_dict(loader: JsonLikeLoader, node: Node) -> dict[str, Any]:
    pairs = loader.construct_yaml_omap(node)  # a generator yielding the list, then filling it
    result = next(pairs)
    for _ in pairs:
        pass
    return {_key_text(key): value for key, value in result}


def _pairs_list(loader: JsonLikeLoader, node: Node) -> list[list[Any]]:
    pairs = loader.construct_yaml_pairs(node)
    result = next(pairs)
    for _ in pairs:
        pass
    return [[key, value] for key, value in result]


JsonLikeLoader.add_constructor("tag:yaml.org,2002:timestamp", _scalar_text)
JsonLikeLoader.add_constructor("tag:yaml.org,2002:binary", _binary_text)
JsonLikeLoader.add_constructor("tag:yaml.org,2002:set", _set_list)
JsonLikeLoader.add_constructor("tag:yaml.org,2002:omap", _omap_dict)
JsonLikeLoader.add_constructor("tag:yaml.org,2002:pairs", _pairs_list)


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def load_yaml(text: str) -> Any:
    """Load one YAML document as JSON-like data; raises :class:`FormatError` when it is not valid."""
    loader = JsonLikeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "*" in text:  # only documents with aliases can expand beyond their own size
            _check_expansion(node)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise FormatError(_describe(exc)) from None
    except yaml.YAMLError as exc:
        raise FormatError(str(exc)) from None
    finally:
        loader.dispose()


def decode_yaml(body: bytes, *, content_type: str | None = None, **_: Any) -> Any:
    if not body.strip():
        return None
    return load_yaml(to_text(body, content_type, lenient=False))


def _describe(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    if exc.context and exc.problem:
        problem = f"{problem} ({exc.context})"
    if mark is None:
        return problem
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"


def _check_expansion(root: Node) -> None:
    """Refuse node graphs that are cyclic or expand to more than MAX_EXPANDED_NODES nodes."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            size = 1 + sum(sizes[id(child)] for child in _children(node))
            if size > MAX_EXPANDED_NODES:
                raise FormatError(
                    f"aliases expand the document to more than {MAX_EXPANDED_NODES:,} nodes "
                    "(an alias bomb?); refused"
                )
            sizes[key] = size
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise FormatError("an alias refers to a node that contains it; recursive data is refused")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [item for pair in node.value for item in pair]
    return []


DECODERS = {"yaml": decode_yaml}
