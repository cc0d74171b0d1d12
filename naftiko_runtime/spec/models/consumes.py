"""Consumed HTTP APIs: namespaces, resources, operations, their parameters and request bodies."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from .auth import Authentication
from .base import BinarySize, HttpMethod, ParamType, SpecModel
from .outputs import ConsumedOutputParameter

ConsumedLocation = Literal["query", "header", "path", "cookie", "body", "environment"]


class ConsumedInputParameter(SpecModel):
    """A parameter sent upstream. ``type``/``description``/``required`` come from the generated dialect."""

    name: str
    in_: ConsumedLocation = Field(default="query", alias="in")
    value: Any = None  # static value or {{template}}
    template: str | None = None
    type: ParamType | None = None
    description: str | None = None
    required: bool | None = None


class BodyJson(SpecModel):
    type: Literal["json"] = "json"
    data: Any = None  # string (a JSON template), object or array


class BodyText(SpecModel):
    type: Literal["text", "xml", "sparql"] = "text"
    data: str = ""


class BodyForm(SpecModel):
    type: Literal["formUrlEncoded"] = "formUrlEncoded"
    data: str | dict[str, Any] = ""


class MultipartPart(SpecModel):
    name: str
    value: Any = None
    filename: str | None = None
    content_type: str | None = None


class BodyMultipart(SpecModel):
    type: Literal["multipartForm"] = "multipartForm"
    data: tuple[MultipartPart, ...] = ()


class BodyRaw(SpecModel):
    """A plain string body (often a YAML block scalar), sent as is; JSON unless a header says otherwise."""

    type: Literal["raw"] = "raw"
    data: str = ""


RequestBody = Annotated[BodyJson | BodyText | BodyForm | BodyMultipart | BodyRaw, Field(discriminator="type")]


class ConsumedOperation(SpecModel):
    name: str
    label: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    method: HttpMethod = "GET"
    path: str | None = None  # generated dialect: a sub-path appended to the resource's path
    input_parameters: tuple[ConsumedInputParameter, ...] = ()
    output_raw_format: str = "json"  # `binary`: the answer's bytes as they are
    output_media_type: str | None = None  # the media type to advertise, whatever the upstream says
    max_binary_size: BinarySize | None = None  # cap of a binary answer (`5MiB`); the adapter's, else 10MiB
    output_schema: str | None = None
    output_parameters: tuple[ConsumedOutputParameter, ...] = ()
    body: RequestBody | None = None


class ConsumedResource(SpecModel):
    name: str
    label: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    path: str = ""
    input_parameters: tuple[ConsumedInputParameter, ...] = ()
    operations: tuple[ConsumedOperation, ...] = ()


class ImportOrigin(SpecModel):
    """Where an imported consumes block came from (for error messages that name both files)."""

    file: str
    imported: str
    alias: str | None = None


class ConsumesHttp(SpecModel):
    type: Literal["http"] = "http"
    namespace: str
    description: str | None = None
    base_uri: str = ""
    input_parameters: tuple[ConsumedInputParameter, ...] = ()
    authentication: Authentication | None = None
    resources: tuple[ConsumedResource, ...] = ()
    origin: ImportOrigin | None = None

    def find_operation(self, name: str) -> tuple[ConsumedResource, ConsumedOperation] | None:
        for resource in self.resources:
            for operation in resource.operations:
                if operation.name == name:
                    return resource, operation
        return None


class ConsumesImport(SpecModel):
    """``location`` + ``import`` (+ ``as``): a consumes block defined in another file."""

    location: str
    import_: str = Field(alias="import")
    as_: str | None = Field(default=None, alias="as")
    description: str | None = None

    @property
    def namespace(self) -> str:
        return self.as_ or self.import_
