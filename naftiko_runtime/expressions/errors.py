"""Errors raised by the expression languages (templates and JSONPath).

They carry no location of their own: the loader knows the file, line and document path where
an expression came from and wraps these into a :class:`naftiko_runtime.errors.Problem`; the
engine knows the operation and wraps them into its own runtime errors.
"""

from __future__ import annotations

from collections.abc import Iterable

from naftiko_runtime.errors import NaftikoError

__all__ = ["ExpressionError", "JsonPathSyntaxError", "MissingVariable"]


class ExpressionError(NaftikoError):
    """Base of every template or JSONPath error."""


class MissingVariable(ExpressionError, LookupError):
    """A strict render met placeholders with no value. ``names`` lists every one, in order.

    Only names appear in the message, never values, so it is safe to show to a caller.
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.names: tuple[str, ...] = tuple(names)
        listed = ", ".join(self.names)
        plural = "s" if len(self.names) != 1 else ""
        super().__init__(f"no value for template variable{plural}: {listed}")


class JsonPathSyntaxError(ExpressionError, ValueError):
    """A JSONPath expression could not be compiled; raised at load time, never by ``find``."""

    def __init__(self, expression: str, reason: str) -> None:
        self.expression = expression
        self.reason = reason
        super().__init__(f"invalid JSONPath {expression!r}: {reason}")
