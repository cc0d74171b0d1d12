"""The root of a Naftiko document: info, binds, capability (consumes, exposes, aggregates)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import SpecModel
from .consumes import ConsumesHttp
from .control import ControlExpose
from .mcp import McpExpose, McpToolInputParameter
from .rest import RestExpose, UnitFields
from .skill import SkillExpose

Expose = Annotated[RestExpose | McpExpose | SkillExpose | ControlExpose, Field(discriminator="type")]


class Person(SpecModel):
    role: str | None = None
    full_name: str | None = None
    email: str | None = None


class Info(SpecModel):
    label: str | None = None  # `title` in the generated dialect, `display` in Ikanos
    description: str | None = None
    version: str | None = None  # the capability's own version (Ikanos 1.0.0-beta4)
    tags: tuple[str, ...] = ()
    created: str | None = None
    modified: str | None = None
    stakeholders: tuple[Person, ...] = ()


class Bind(SpecModel):
    namespace: str
    description: str | None = None
    location: str | None = None
    keys: dict[str, str] = Field(default_factory=dict)


class Semantics(SpecModel):
    safe: bool | None = None
    idempotent: bool | None = None
    cacheable: bool | None = None


class AggregateFunction(UnitFields):
    """An aggregate function (a *flow* in Ikanos)."""

    semantics: Semantics | None = None
    input_parameters: tuple[McpToolInputParameter, ...] = ()
    output_media_type: str | None = None  # advertised media type of a binary answer


class Aggregate(SpecModel):
    label: str | None = None
    namespace: str
    functions: tuple[AggregateFunction, ...] = ()  # `flows` in Ikanos


class Capability(SpecModel):
    """Consumes are resolved: imported entries are replaced by the ConsumesHttp they name."""

    binds: tuple[Bind, ...] = ()
    consumes: tuple[ConsumesHttp, ...] = ()
    exposes: tuple[Expose, ...] = ()
    aggregates: tuple[Aggregate, ...] = ()


class Document(SpecModel):
    """A loaded capability (or shared) document, in either spelling of the spec."""

    naftiko: str | None = None
    ikanos: str | None = None  # an Ikanos document (1.0.0-alpha3 … 1.0.0-beta5), read into the same models
    info: Info | None = None
    binds: tuple[Bind, ...] = ()
    consumes: tuple[ConsumesHttp, ...] = ()  # root consumes: a shared consumes file
    exposes: tuple[Expose, ...] = ()  # root exposes and aggregates: an Ikanos shared file
    aggregates: tuple[Aggregate, ...] = ()
    capability: Capability | None = None
    source_file: str | None = None  # set by the loader: binds and imports resolve against its directory

    @property
    def all_binds(self) -> tuple[Bind, ...]:
        return self.binds + (self.capability.binds if self.capability else ())

    @property
    def all_consumes(self) -> tuple[ConsumesHttp, ...]:
        return (self.capability.consumes if self.capability else ()) + self.consumes

    def find_consumes(self, namespace: str) -> ConsumesHttp | None:
        for consumes in self.all_consumes:
            if consumes.namespace == namespace:
                return consumes
        return None

    @property
    def spec_version(self) -> str | None:
        """The version of the spec the document declares (``ikanos`` or ``naftiko``)."""
        return self.ikanos or self.naftiko

    @property
    def title(self) -> str:
        if self.info and self.info.label:
            return self.info.label
        return "Naftiko capability"
