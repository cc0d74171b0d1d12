"""Read YAML into plain Python data while remembering where every node came from.

``yaml.load`` forgets positions, and re-parsing a file to locate an error doubles the work. Instead we
let libyaml (the C parser) compose the node tree and construct plain values ourselves in one walk,
recording ``(line, column)`` for every key and value by its path in the document. That walk is
cheaper than PyYAML's own (pure Python) constructor, so positions come for free.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem, Severity

try:  # libyaml is the fast path; the pure-Python parser gives identical trees.
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

DocPath = tuple[str | int, ...]

_RESOLVED: dict[str, str] = {}  # plain scalar text → its implicit tag ("name" → str, "8080" → int)


class _Loader(_BaseLoader):
    """The safe loader, with the tag of each plain scalar resolved once per process.

    Composing spends most of its Python time matching every scalar against the implicit-type regular
    expressions, yet capability files repeat the same keys and values (``name``, ``type``, ``in``,
    ``query``...). For a plain scalar the tag depends on its text alone (the safe loader has no path
    resolvers), so it is cached. Path resolution hooks are no-ops for the same reason.
    """

    def descend_resolver(self, current_node: object, current_index: object) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None

    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            tag = _RESOLVED.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
                if len(value) <= 64 and len(_RESOLVED) < 8192:
                    _RESOLVED[value] = tag
            return tag
        return str(super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]


_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
_BOOL_VALUES = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}
_scalar_constructor = yaml.constructor.SafeConstructor()
_INT_DIGITS = sys.get_int_max_str_digits() or 4300  # 0 means "no limit" (then 4300 is still plenty)


@dataclass
class Source:
    """A parsed document: its data, where each node was, and the file it came from."""

    data: Any
    file: str
    value_positions: dict[DocPath, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[DocPath, tuple[int, int]] = field(default_factory=dict)
    duplicate_keys: list[DocPath] = field(default_factory=list)
    node_budget: int = field(default=0, repr=False)
    # A document read from another spelling (Ikanos maps keyed by name) is reshaped before the
    # models see it: a reshaped path → the path as written, and whether it names a key there.
    aliases: dict[DocPath, tuple[DocPath, bool]] = field(default_factory=dict, repr=False)

    @property
    def directory(self) -> Path:
        return Path(self.file).resolve().parent

    def position(self, path: DocPath, *, key: bool = False) -> tuple[int, int]:
        """Line and column of ``path``, or of its nearest ancestor present in the file."""
        probe = path
        while True:
            if key and probe in self.key_positions:
                return self.key_positions[probe]
            if probe in self.value_positions:
                return self.value_positions[probe]
            if self.aliases:
                written, is_key = self.original(probe)
                if (key or is_key) and written in self.key_positions:
                    return self.key_positions[written]
                if not is_key and written in self.value_positions:
                    return self.value_positions[written]
            if not probe:
                return (1, 1)
            probe = probe[:-1]

    def original(self, path: DocPath) -> tuple[DocPath, bool]:
        """The path as written in the file (and whether it names a key there) of a reshaped path."""
        if not self.aliases:
            return path, False
        for cut in range(len(path), 0, -1):
            found = self.aliases.get(path[:cut])
            if found is not None:
                written, is_key = found
                return (*written, *path[cut:]), is_key and cut == len(path)
        return path, False

    def problem(
        self,
        path: DocPath,
        message: str,
        *,
        severity: Severity = "error",
        rule: str = "invalid",
        key: bool = False,
    ) -> Problem:
        line, column = self.position(path, key=key)
        return Problem(
            message=message,
            path=format_path(self.original(path)[0]),
            file=self.file,
            line=line,
            column=column,
            severity=severity,
            rule=rule,
        )


def format_path(path: DocPath) -> str:
    """``("capability", "exposes", 0, "call")`` → ``capability.exposes[0].call``."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        else:
            out.append(f".{part}" if out else str(part))
    return "".join(out)


def parse_yaml(text: str, file: str) -> Source:
    """Parse one YAML document. Raises ``YamlSyntaxError`` with a located problem."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise YamlSyntaxError(_syntax_problem(exc, text, file)) from None
    except yaml.YAMLError as exc:  # e.g. several documents in one stream
        raise YamlSyntaxError(
            Problem(message=f"YAML error: {exc}", file=file, line=1, column=1, rule="yaml-syntax")
        ) from None
    source = Source(data=None, file=file)
    if node is not None:
        source.value_positions[()] = (node.start_mark.line + 1, node.start_mark.column + 1)
        # Without aliases a document has fewer nodes than characters; the margin leaves room for
        # ordinary anchors (`<<: *defaults`) and stops alias bombs long before memory runs out.
        source.node_budget = _NODES_PER_CHARACTER * len(text) + _NODE_MARGIN
        try:
            source.data = _construct(node, (), source)
        except RecursionError:
            raise YamlSyntaxError(_recursive_alias(node, file)) from None
        except yaml.MarkedYAMLError as exc:  # a bad merge key, an explicit `!!int` that is not one
            raise YamlSyntaxError(_syntax_problem(exc, text, file)) from None
        except _TooManyNodes as exc:
            raise YamlSyntaxError(
                Problem(
                    message="YAML error: aliases expand to too many nodes (an alias bomb?)",
                    file=file,
                    line=exc.node.start_mark.line + 1,
                    column=exc.node.start_mark.column + 1,
                    rule="yaml-syntax",
                )
            ) from None
    return source


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    reason = exc.problem or str(exc)
    if exc.context:
        reason = f"{reason} ({exc.context})"
    if _char_at(text, line, column) == "\t":
        reason += (
            "; YAML indentation must use spaces"
            if "tab" in reason
            else "; found a tab character: YAML indentation must use spaces"
        )
    return Problem(
        message=f"YAML syntax error: {reason}", file=file, line=line, column=column, rule="yaml-syntax"
    )


_NODES_PER_CHARACTER = 10
_NODE_MARGIN = 100_000


class _TooManyNodes(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


def _recursive_alias(root: yaml.Node, file: str) -> Problem:
    """Locate the anchored node that contains an alias to itself (only walked once that happened)."""
    found: list[yaml.Node] = []
    on_path: set[int] = set()

    def walk(node: yaml.Node) -> None:
        if found or not isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
            return
        if id(node) in on_path:
            found.append(node)
            return
        on_path.add(id(node))
        children = node.value if isinstance(node, yaml.SequenceNode) else [v for _, v in node.value]
        for child in children:
            walk(child)
        on_path.discard(id(node))

    walk(root)
    mark = found[0].start_mark if found else root.start_mark
    return Problem(
        message="YAML error: recursive alias: an anchored node contains an alias to itself",
        file=file,
        line=mark.line + 1,
        column=mark.column + 1,
        rule="yaml-syntax",
    )


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    if 0 < line <= len(lines) and 0 < column <= len(lines[line - 1]):
        return lines[line - 1][column - 1]
    return ""


def read_yaml(path: Path) -> Source:
    """Read and parse a file; a missing or unreadable file is a located problem too."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise YamlSyntaxError(Problem(message="file not found", file=str(path), rule="file")) from None
    except UnicodeDecodeError as exc:
        raise YamlSyntaxError(
            Problem(message=f"not UTF-8 text: {exc.reason}", file=str(path), rule="file")
        ) from None
    except OSError as exc:
        raise YamlSyntaxError(
            Problem(message=f"cannot read file: {exc.strerror}", file=str(path), rule="file")
        ) from None
    return parse_yaml(text, str(path))


class YamlSyntaxError(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(problem.format())


def _construct(node: yaml.Node, path: DocPath, source: Source) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    if isinstance(node, yaml.SequenceNode):
        source.node_budget -= len(node.value)
        if source.node_budget < 0:
            raise _TooManyNodes(node)
        items = []
        for index, child in enumerate(node.value):
            child_path = (*path, index)
            source.value_positions[child_path] = (child.start_mark.line + 1, child.start_mark.column + 1)
            items.append(_construct(child, child_path, source))
        return items
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                _scalar_constructor.flatten_mapping(node)
                break
        source.node_budget -= len(node.value)
        if source.node_budget < 0:
            raise _TooManyNodes(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            if not isinstance(key, str):
                key = str(key) if not isinstance(key, bool) else ("true" if key else "false")
            child_path = (*path, key)
            if key in mapping:
                source.duplicate_keys.append(child_path)
            source.key_positions[child_path] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            source.value_positions[child_path] = (
                value_node.start_mark.line + 1,
                value_node.start_mark.column + 1,
            )
            mapping[key] = _construct(value_node, child_path, source)
        return mapping
    return None  # pragma: no cover - composer yields only the three node kinds


def _scalar(node: yaml.ScalarNode) -> Any:
    tag, text = node.tag, node.value
    if tag in (_STR, _TIMESTAMP):
        # Dates stay text: the spec types `created`/`modified` as strings.
        return text
    if tag == _INT:
        if text.isdigit() and len(text) <= _INT_DIGITS:
            return int(text)
        return _explicit(node, _scalar_constructor.construct_yaml_int, "an integer")
    if tag == _BOOL:
        return _BOOL_VALUES.get(text.lower(), bool(text))
    if tag == _NULL:
        return None
    if tag == _FLOAT:
        return _explicit(node, _scalar_constructor.construct_yaml_float, "a number")
    return text


def _explicit(node: yaml.ScalarNode, construct: Any, kind: str) -> Any:
    """Implicit tags come from regular expressions that guarantee the value; `!!int abc` does not.

    Python also refuses to read an integer of more than ``sys.get_int_max_str_digits()`` digits (a
    guard against quadratic conversion); such a literal is refused here, where it can be located.
    """
    digits = sum(char.isdigit() for char in node.value) if node.tag == _INT else 0
    if digits > _INT_DIGITS:
        reason = f"an integer of {digits} digits is longer than the {_INT_DIGITS} digits a number may have"
        raise yaml.constructor.ConstructorError(None, None, reason, node.start_mark)
    try:
        return construct(node)
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"{node.value!r} is tagged {node.tag.rsplit(':', 1)[-1]!r} but is not {kind}",
            node.start_mark,
        ) from None
