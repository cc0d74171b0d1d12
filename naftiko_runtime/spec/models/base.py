"""Shared base of every spec model: immutable, camelCase aliases, unknown keys kept for warnings."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

ParamType = Literal["string", "number", "integer", "boolean", "array", "object"]
HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class SpecModel(BaseModel):
    """Base of all spec objects.

    ``extra="allow"`` keeps keys the spec does not define, so the loader can warn about each one at
    its line instead of silently dropping it; nothing in the runtime reads them.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="allow",
        alias_generator=to_camel,
        populate_by_name=True,
        ser_json_inf_nan="constants",
    )


def split_call(call: str) -> tuple[str, str]:
    """``namespace.operation`` → ``(namespace, operation)``; the loader has already checked the form."""
    namespace, _, operation = call.partition(".")
    return namespace, operation


def whole_body(parameters: Iterable[tuple[str, str | None]]) -> str | None:
    """The name of the parameter that is the entire request body, given ``(name, location)`` pairs.

    An ``in: body`` parameter named ``body`` is the whole body only when it is the single body
    parameter; beside others it is one member, like them (GitHub's issue payload is
    ``{"title", "body"}``). ``None`` when the body, if any, is an object of members.
    """
    bodies = [name for name, location in parameters if location == "body"]
    return "body" if bodies == ["body"] else None


_SIZE = re.compile(r"(\d+(?:\.\d+)?)(B|KiB|MiB|GiB)")
_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
DEFAULT_MAX_BINARY_BYTES = 10 << 20  # the spec's default `maxBinarySize`: 10MiB


def parse_binary_size(text: str) -> int:
    """``512KiB`` → 524288. The unit is required (a bare number has no scale, says the spec)."""
    found = _SIZE.fullmatch(text.strip())
    if found is None:
        raise ValueError(
            f"maxBinarySize {text!r}: expected a number and a unit (B, KiB, MiB or GiB), e.g. 5MiB"
        )
    return int(float(found.group(1)) * _UNITS[found.group(2)])


def _checked_size(text: str) -> str:
    parse_binary_size(text)
    return text


BinarySize = Annotated[str, AfterValidator(_checked_size)]
"""A ``maxBinarySize`` value, checked when the document loads."""
