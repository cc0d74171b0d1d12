"""The control adapter: health, status, metrics, traces and scripting governance."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .auth import Authentication
from .base import SpecModel


class ControlLogs(SpecModel):
    level_control: bool = Field(default=True, alias="level-control")
    stream: bool = False
    max_subscribers: int = Field(default=5, alias="max-subscribers")


class ScriptingManagement(SpecModel):
    enabled: bool = True
    default_location: str | None = None
    default_language: str | None = None
    timeout: int = 60_000  # milliseconds
    statement_limit: int = 100_000
    allowed_languages: tuple[str, ...] | None = None
    memory_limit_mb: int | None = None  # runtime extension: address-space cap of the script process


class ControlManagement(SpecModel):
    health: bool = True
    info: bool = False
    reload: bool = False
    validate_: bool = Field(default=False, alias="validate")
    logs: bool | ControlLogs = False
    scripting: ScriptingManagement | None = None


class LocalEndpoint(SpecModel):
    enabled: bool = True


class LocalTraces(SpecModel):
    enabled: bool = True
    buffer_size: int = Field(default=100, alias="buffer-size")


class ObservabilityMetrics(SpecModel):
    local: LocalEndpoint = LocalEndpoint()


class ObservabilityTraces(SpecModel):
    sampling: float = 1.0
    propagation: Literal["w3c", "b3"] = "w3c"
    local: LocalTraces = LocalTraces()


class OtlpExporter(SpecModel):
    endpoint: str


class ObservabilityExporters(SpecModel):
    otlp: OtlpExporter | None = None


class Observability(SpecModel):
    enabled: bool = True
    metrics: ObservabilityMetrics = ObservabilityMetrics()
    traces: ObservabilityTraces = ObservabilityTraces()
    exporters: ObservabilityExporters | None = None


class ControlExpose(SpecModel):
    type: Literal["control"] = "control"
    namespace: str = "control"
    address: str | None = None
    port: int | None = None
    authentication: Authentication | None = None
    management: ControlManagement = ControlManagement()
    observability: Observability | None = None
