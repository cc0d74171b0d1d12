"""JSON body templates compiled to their structure, so an unset value can be left out.

A JSON body is written either as YAML data (``body: {title: "{{title}}", labels: "{{labels}}"}``)
or as JSON text (``body: '{"title": "{{title}}", "days": {{days}}}'``). Both compile here to one
tree of objects, arrays, literals and placeholders, rendered per request with the rule for unset
values that every request part follows: a member (or array element) whose value is one placeholder
with no value (or a null one) is left out, rather than sent as ``null`` or ``""``; a placeholder
inside a longer text renders as empty text.

A placeholder's value keeps its JSON type where it stands for a whole value (``{{days}}`` outside
quotes in JSON text; ``"{{labels}}"`` as a YAML value); inside a JSON string literal it is text
(``"{{imo}}"``, ``"id-{{n}}"``).

JSON text that is not JSON once its placeholders are filled (``{"a": {{a}}{{b}}}``) cannot be
compiled to a tree; :func:`compile_json_text` returns ``None`` and the caller renders it as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

import orjson

from .templates import Template, compile_template, to_text

Render = Callable[[Mapping[str, Any]], Any]
Compile = Callable[[str], Template]
"""How a text becomes a template: :func:`compile_template`, or one that fixes bind variables."""

OMIT: Final = object()
"""What a member renders to when it is left out (unset value)."""

_MARK: Final = "\ue000"  # a private-use character: a key no document writes (checked)
_IN_TEXT: Final = re.compile(r'\{"' + _MARK + r'":(\d+)\}')


class JsonText:
    """A JSON text template and its tree. :meth:`render_bytes` sends the text as written (its
    spacing kept) unless a whole value in it is unset; then the tree, with that member left out."""

    __slots__ = ("_tree", "_wholes", "template")

    def __init__(
        self, template: Template, tree: Render, wholes: tuple[str, ...], compile_text: Compile
    ) -> None:
        self.template = template
        self._tree = tree
        self._wholes = tuple(compile_text("{{" + name + "}}") for name in wholes)

    def render_bytes(self, context: Mapping[str, Any]) -> bytes:
        for slot in self._wholes:
            if slot.render_value(context) is None:
                return orjson.dumps(self._tree(context))
        return self.template.render_json(context).encode()


def compile_json_text(text: str, compile_text: Compile = compile_template) -> JsonText | None:
    """The tree of a JSON text template, or ``None`` when the text is not JSON around its
    placeholders (it is then rendered as text)."""
    template = compile_text(text)
    if _MARK in text:
        return None
    names = template.variables
    # Each variable stands in as a marker object: outside a string literal it is inserted as the
    # JSON object {MARK: i}, inside one as that object's text; both survive parsing, told apart.
    markers = {name: {_MARK: index} for index, name in enumerate(names)}
    try:
        tree = orjson.loads(template.render_json(markers))
    except orjson.JSONDecodeError:
        return None
    wholes: dict[str, None] = {}
    return JsonText(
        template, _top(_compile_parsed(tree, names, wholes, compile_text)), tuple(wholes), compile_text
    )


def compile_json_data(data: Any, compile_text: Compile = compile_template) -> Render:
    """The tree of a body written as YAML data: a string that is one placeholder keeps its value's
    type; other strings with placeholders are text. Top level: ``None`` when it is left out."""
    return _top(_compile_data(data, compile_text))


def _top(build: Render) -> Render:
    def render(context: Mapping[str, Any]) -> Any:
        value = build(context)
        return None if value is OMIT else value

    return render


def _compile_data(data: Any, compile_text: Compile) -> Render:
    if isinstance(data, str):
        template = compile_text(data)
        if template.is_literal:
            return lambda _context: data
        if template.single_variable is not None:
            return _value(template.single_variable, compile_text)
        return template.render
    return _container(data, lambda child: _compile_data(child, compile_text), compile_text)


def _compile_parsed(
    node: Any, names: tuple[str, ...], wholes: dict[str, None], compile_text: Compile
) -> Render:
    """``wholes`` collects the names that stand for a whole value (left out when unset)."""
    if isinstance(node, dict) and len(node) == 1 and _MARK in node:
        wholes[names[node[_MARK]]] = None
        return _value(names[node[_MARK]], compile_text)
    if isinstance(node, str):
        return _text(node, names, compile_text, wholes)
    return _container(
        node, lambda child: _compile_parsed(child, names, wholes, compile_text), compile_text, names
    )


def _container(
    node: Any, compile_child: Callable[[Any], Render], compile_text: Compile, names: tuple[str, ...] = ()
) -> Render:
    if isinstance(node, dict):
        members = [
            (
                _text(key, names, compile_text) if names else (lambda _context, key=key: key),
                compile_child(value),
            )
            for key, value in node.items()
        ]

        def build_object(context: Mapping[str, Any]) -> Any:
            out = {}
            for key, build in members:
                value = build(context)
                if value is not OMIT:
                    out[key(context)] = value
            return out

        return build_object
    if isinstance(node, list):
        items = [compile_child(item) for item in node]

        def build_array(context: Mapping[str, Any]) -> Any:
            return [value for value in (build(context) for build in items) if value is not OMIT]

        return build_array
    return lambda _context: node


def _value(name: str, compile_text: Compile) -> Render:
    """A whole value: the placeholder's own value, typed; left out when unset."""
    template = compile_text("{{" + name + "}}")

    def render(context: Mapping[str, Any]) -> Any:
        value = template.render_value(context)
        if value is None:
            return OMIT
        reveal = getattr(value, "reveal", None)
        return reveal() if callable(reveal) else value

    return render


def _text(
    text: str, names: tuple[str, ...], compile_text: Compile, wholes: dict[str, None] | None = None
) -> Render:
    """A string of JSON text: literal, one placeholder (left out when unset) or text around some."""
    found = list(_IN_TEXT.finditer(text))
    if not found:
        return lambda _context: text
    if len(found) == 1 and found[0].span() == (0, len(text)):
        name = names[int(found[0].group(1))]
        if wholes is not None:
            wholes[name] = None
        whole = _value(name, compile_text)

        def render_whole(context: Mapping[str, Any]) -> Any:
            value = whole(context)
            return value if value is OMIT else to_text(value)

        return render_whole
    literals: list[str] = []
    slots: list[Render] = []
    position = 0
    for match in found:
        literals.append(text[position : match.start()])
        slots.append(compile_text("{{" + names[int(match.group(1))] + "}}").render_value)
        position = match.end()
    tail = text[position:]

    def render_text(context: Mapping[str, Any]) -> str:
        out: list[str] = []
        for literal, slot in zip(literals, slots, strict=True):
            out.append(literal)
            value = slot(context)
            if value is not None:
                out.append(to_text(value))
        out.append(tail)
        return "".join(out)

    return render_text
