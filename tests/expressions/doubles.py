"""Shared test doubles for the expression tests."""

from __future__ import annotations


class FakeSecret:
    """Stands in for a bind secret: masked everywhere except through ``reveal()``."""

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__
