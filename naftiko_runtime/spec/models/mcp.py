"""The MCP adapter: tools (with hints), resources (static and dynamic) and prompts."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .auth import Authentication
from .base import BinarySize, ParamType, SpecModel
from .outputs import OutputParameter
from .rest import UnitFields
from .wiring import Step, StepOutputMapping, WithValue


class McpToolHints(SpecModel):
    read_only: bool | None = None
    destructive: bool | None = None
    idempotent: bool | None = None
    open_world: bool | None = None


class McpToolInputParameter(SpecModel):
    name: str
    type: ParamType = "string"
    description: str | None = None
    required: bool = True


class McpTool(UnitFields):
    input_parameters: tuple[McpToolInputParameter, ...] = ()
    hints: McpToolHints | None = None


class McpResource(SpecModel):
    name: str
    label: str | None = None
    uri: str
    description: str | None = None
    mime_type: str | None = None
    binary: bool = False  # read as a base64 blob (the call's operation answers `binary`)
    call: str | None = None
    with_: dict[str, WithValue] = Field(default_factory=dict, alias="with")
    steps: tuple[Step, ...] = ()
    mappings: tuple[StepOutputMapping, ...] = ()
    output_parameters: tuple[OutputParameter, ...] = ()
    location: str | None = None

    @property
    def is_static(self) -> bool:
        return self.location is not None

    @property
    def is_template(self) -> bool:
        return "{" in self.uri


class McpPromptArgument(SpecModel):
    name: str
    label: str | None = None
    description: str | None = None
    required: bool = False


class McpPromptMessage(SpecModel):
    role: Literal["user", "assistant"] = "user"
    content: str | None = None
    call: str | None = None
    with_: dict[str, WithValue] = Field(default_factory=dict, alias="with")
    steps: tuple[Step, ...] = ()
    mappings: tuple[StepOutputMapping, ...] = ()
    output_parameters: tuple[OutputParameter, ...] = ()


class McpPrompt(SpecModel):
    name: str
    label: str | None = None
    description: str | None = None
    arguments: tuple[McpPromptArgument, ...] = ()
    template: tuple[McpPromptMessage, ...] = ()  # the wiki's `messages` is read into this
    location: str | None = None


class McpExpose(SpecModel):
    type: Literal["mcp"] = "mcp"
    namespace: str
    transport: Literal["http", "stdio"] = "http"
    address: str | None = None
    port: int | None = None
    description: str | None = None
    authentication: Authentication | None = None
    max_binary_size: BinarySize | None = None  # cap of binary answers before base64 (`10MiB` by default)
    ttl_ms: int | None = None  # freshness hint of cacheable results (2026-07-28 `ttlMs`)
    cache_scope: Literal["public", "private"] | None = None
    tools: tuple[McpTool, ...] = ()
    resources: tuple[McpResource, ...] = ()
    prompts: tuple[McpPrompt, ...] = ()
