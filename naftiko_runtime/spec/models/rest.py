"""The REST adapter: resources, operations (simple, orchestrated, ref) and forwarding."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .auth import Authentication
from .base import BinarySize, HttpMethod, ParamType, SpecModel, split_call
from .outputs import OutputParameter
from .wiring import Step, StepOutputMapping, WithValue

ExposedLocation = Literal["query", "header", "path", "cookie", "body"]


class ExposedInputParameter(SpecModel):
    name: str
    in_: ExposedLocation = Field(default="query", alias="in")
    type: ParamType = "string"
    description: str | None = None
    pattern: str | None = None
    value: str | None = None  # static value, or a JSONPath into the JSON body
    required: bool | None = None


class ForwardConfig(SpecModel):
    target_namespace: str
    trusted_headers: tuple[str, ...] = ()


class UnitFields(SpecModel):
    """What REST operations, MCP tools and aggregate functions share: the three modes."""

    name: str | None = None
    label: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    ref: str | None = None
    call: str | None = None
    with_: dict[str, WithValue] = Field(default_factory=dict, alias="with")
    steps: tuple[Step, ...] = ()
    mappings: tuple[StepOutputMapping, ...] = ()
    output_parameters: tuple[OutputParameter, ...] = ()

    @property
    def mode(self) -> Literal["ref", "call", "steps", "mock"]:
        if self.ref:
            return "ref"
        if self.call:
            return "call"
        if self.steps:
            return "steps"
        return "mock"

    @property
    def call_target(self) -> tuple[str, str] | None:
        return split_call(self.call) if self.call else None


class ResponseContent(SpecModel):
    binary: bool = False
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")


class Response(SpecModel):
    """One status of an operation's declared response contract (Ikanos ``responses``)."""

    description: str | None = None
    content: dict[str, ResponseContent] = Field(default_factory=dict)  # media type → content


class ResponseBinary(SpecModel):
    """The shorthand for one successful binary answer: ``{mediaType, status}``."""

    media_type: str
    status: int = 200
    description: str | None = None


class ExposedOperation(UnitFields):
    method: HttpMethod = "GET"
    path: str | None = None  # generated dialect: a sub-path appended to the resource's path
    input_parameters: tuple[ExposedInputParameter, ...] = ()
    responses: dict[str, Response] = Field(default_factory=dict)  # status ("200", "2XX") → contract
    response_binary: ResponseBinary | None = None

    @property
    def binary_media_type(self) -> str | None:
        """The media type a successful binary answer is declared with (``responseBinary`` or the
        first ``binary`` content of a 2xx ``responses`` entry)."""
        if self.response_binary is not None:
            return self.response_binary.media_type
        for status, response in self.responses.items():
            if status.startswith("2"):
                for media_type, content in response.content.items():
                    if content.binary:
                        return media_type
        return None


class ExposedResource(SpecModel):
    path: str
    name: str | None = None
    label: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    input_parameters: tuple[ExposedInputParameter, ...] = ()
    operations: tuple[ExposedOperation, ...] = ()
    forward: ForwardConfig | None = None


class RestExpose(SpecModel):
    type: Literal["rest"] = "rest"
    namespace: str
    address: str | None = None
    port: int | None = None
    description: str | None = None
    authentication: Authentication | None = None
    max_binary_size: BinarySize | None = None  # cap of binary answers of this adapter (`10MiB` by default)
    input_parameters: tuple[ExposedInputParameter, ...] = ()
    resources: tuple[ExposedResource, ...] = ()
