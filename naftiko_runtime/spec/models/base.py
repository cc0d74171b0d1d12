"""Shared base of every spec model: immutable, camelCase aliases, unknown keys kept for warnings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict
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
