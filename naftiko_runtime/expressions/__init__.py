"""Expressions in capability documents: ``{{...}}`` templates, JSONPath, parameter names.

Everything here is compiled once at load time (``compile_template``, ``compile_path``, both
cached) and evaluated per request without further parsing. Nothing here knows about HTTP.
"""

from naftiko_runtime.expressions.errors import ExpressionError, JsonPathSyntaxError, MissingVariable
from naftiko_runtime.expressions.jsonpath import Path, compile_path
from naftiko_runtime.expressions.names import NameIndex, canonical
from naftiko_runtime.expressions.templates import (
    Template,
    compile_template,
    has_placeholders,
    substitute,
    to_json,
    to_text,
)

JsonPath = Path  # an alias for modules that also import pathlib.Path

__all__ = [
    "ExpressionError",
    "JsonPath",
    "JsonPathSyntaxError",
    "MissingVariable",
    "NameIndex",
    "Path",
    "Template",
    "canonical",
    "compile_path",
    "compile_template",
    "has_placeholders",
    "substitute",
    "to_json",
    "to_text",
]
