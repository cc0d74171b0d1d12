"""The skill adapter: a catalog grouping exposed tools (and instruction files) into named skills."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .auth import Authentication
from .base import SpecModel


class SkillToolFrom(SpecModel):
    source_namespace: str
    action: str


class SkillTool(SpecModel):
    name: str
    description: str | None = None
    from_: SkillToolFrom | None = Field(default=None, alias="from")
    instruction: str | None = None


class ExposedSkill(SpecModel):
    name: str
    label: str | None = None
    description: str | None = None
    license: str | None = None
    compatibility: str | None = None
    metadata: dict[str, Any] | None = None
    allowed_tools: str | None = Field(default=None, alias="allowed-tools")
    argument_hint: str | None = Field(default=None, alias="argument-hint")
    user_invocable: bool | None = Field(default=None, alias="user-invocable")
    disable_model_invocation: bool | None = Field(default=None, alias="disable-model-invocation")
    location: str | None = None
    tools: tuple[SkillTool, ...] = ()


class SkillExpose(SpecModel):
    type: Literal["skill"] = "skill"
    namespace: str
    address: str | None = None
    port: int | None = None
    description: str | None = None
    authentication: Authentication | None = None
    skills: tuple[ExposedSkill, ...] = ()
