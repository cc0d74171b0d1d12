"""Read YAML into plain Python data while remembering where every node came from.

``yaml.load`` forgets positions, and re-parsing a file to locate an error doubles the work. Instead we
let libyaml (the C parser) compose the node tree and construct plain values ourselves in one walk,
recording ``(line, column)`` for every key and value by its path in the document. That walk is
cheaper than PyYAML's own (pure Python) constructor, so positions come for free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem

try:  # libyaml is the fast path; the pure-Python parser gives identical trees.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

DocPath = tuple[str | int, ...]

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
_BOOL_VALUES = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}
_scalar_constructor = yaml.constructor.SafeConstructor()


@dataclass
class Source:
    """A parsed document: its data, where each node was, and the file it came from."""

    data: Any
    file: str
    value_positions: dict[DocPath, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[DocPath, tuple[int, int]] = field(default_factory=dict)
    duplicate_keys: list[DocPath] = field(default_factory=list)

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
            if not probe:
                return (1, 1)
            probe = probe[:-1]

    def problem(
        self,
        path: DocPath,
        message: str,
        *,
        severity: str = "error",
        rule: str = "invalid",
        key: bool = False,
    ) -> Problem:
        line, column = self.position(path, key=key)
        return Problem(
            message=message,
            path=format_path(path),
            file=self.file,
            line=line,
            column=column,
            severity=severity,
            rule=rule,
        )  # type: ignore[arg-type]


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
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = exc.problem or str(exc)
        if exc.context:
            reason = f"{reason} ({exc.context})"
        if _char_at(text, line, column) == "\t":
            reason += "; found a tab character: YAML indentation must use spaces"
        raise YamlSyntaxError(
            Problem(
                message=f"YAML syntax error: {reason}",
                file=file,
                line=line,
                column=column,
                rule="yaml-syntax",
            )
        ) from None
    except yaml.YAMLError as exc:  # e.g. several documents in one stream
        raise YamlSyntaxError(
            Problem(message=f"YAML error: {exc}", file=file, line=1, column=1, rule="yaml-syntax")
        ) from None
    source = Source(data=None, file=file)
    if node is not None:
        source.value_positions[()] = (node.start_mark.line + 1, node.start_mark.column + 1)
        source.data = _construct(node, (), source)
    return source


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
        items = []
        for index, child in enumerate(node.value):
            child_path = (*path, index)
            source.value_positions[child_path] = (child.start_mark.line + 1, child.start_mark.column + 1)
            items.append(_construct(child, child_path, source))
        return items
    if isinstance(node, yaml.MappingNode):
        if any(key.tag == _MERGE for key, _ in node.value):
            _scalar_constructor.flatten_mapping(node)
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
        if text.isdigit():
            return int(text)
        return _scalar_constructor.construct_yaml_int(node)
    if tag == _BOOL:
        return _BOOL_VALUES.get(text.lower(), bool(text))
    if tag == _NULL:
        return None
    if tag == _FLOAT:
        return _scalar_constructor.construct_yaml_float(node)
    return text
