"""How exposed units reach consumed operations: ``with`` values, steps and step output mappings.

The loader classifies every ``with`` value once (reference, JSONPath, template or static value), so
no later layer looks at the string again.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from .base import SpecModel, split_call


class InputRef(SpecModel):
    """``ns.x`` / ``rest.x`` / ``tools.x``: the exposed unit's input ``x`` (matched across spellings)."""

    kind: Literal["input"] = "input"
    name: str


class PathRef(SpecModel):
    """``$.step.field``: a JSONPath over the arguments and the results of earlier steps."""

    kind: Literal["path"] = "path"
    path: str


class TemplateValue(SpecModel):
    """A string with ``{{...}}`` placeholders over arguments, step results and binds."""

    kind: Literal["template"] = "template"
    template: str


class StaticValue(SpecModel):
    """Any other value, with its YAML type kept."""

    kind: Literal["static"] = "static"
    value: Any = None


WithValue = Annotated[InputRef | PathRef | TemplateValue | StaticValue, Field(discriminator="kind")]


class StepCall(SpecModel):
    type: Literal["call"] = "call"
    name: str
    call: str
    with_: dict[str, WithValue] = Field(default_factory=dict, alias="with")

    @property
    def target(self) -> tuple[str, str]:
        return split_call(self.call)


class StepLookup(SpecModel):
    type: Literal["lookup"] = "lookup"
    name: str
    index: str
    match: str
    lookup_value: str
    output_parameters: tuple[str, ...] = ()


class StepScript(SpecModel):
    type: Literal["script"] = "script"
    name: str
    language: str | None = None
    location: str | None = None
    file: str
    dependencies: tuple[str, ...] = ()
    with_: dict[str, WithValue] = Field(default_factory=dict, alias="with")


Step = Annotated[StepCall | StepLookup | StepScript, Field(discriminator="type")]


class StepOutputMapping(SpecModel):
    """``targetName`` (dots make nested objects) ← ``value`` (a JSONPath, ``{{ }}`` already removed)."""

    target_name: str
    value: str
