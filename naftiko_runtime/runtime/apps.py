"""One ASGI app per adapter, built from a runtime: the only place adapters are chosen by type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..observability import Metrics
from ..spec.models import ControlExpose, McpExpose, RestExpose, SkillExpose
from .core import Runtime

Built = tuple[Any, str, str]  # (ASGI app, summary for the startup banner, path to show in the URL)


def build_adapter(
    runtime: Runtime, expose: Any, metrics: Metrics, runtimes: Sequence[Runtime], plane: Any = None
) -> Built | str:
    """The adapter's app, or the reason it is not served (a string). ``plane`` is what a control
    adapter reports and reloads (``runtime/reload.py``); by default the runtimes given, fixed."""
    if isinstance(expose, RestExpose):
        from ..exposes.rest import build_rest_app

        plan = next(p for p in runtime.rest if p.expose is expose)
        return (
            build_rest_app(plan, runtime.context),
            _count(len(plan.routes), "route") + _forwards(len(plan.forwards)),
            "",
        )
    if isinstance(expose, McpExpose):
        from .mcp import mcp_app

        mcp = next(p for p in runtime.mcp if p.expose is expose)
        return mcp_app(mcp, runtime.context), _mcp_summary(mcp), "/mcp"
    if isinstance(expose, SkillExpose):
        from ..exposes.skill import build_skill_app

        skill = next(p for p in runtime.skills if p.expose is expose)
        app = build_skill_app(skill, runtime.context)
        return app, app.state.catalog.summary(), "/skills"
    if isinstance(expose, ControlExpose):
        from ..exposes.control import build_control_app, endpoint_summary
        from .reload import FixedPlane

        scripting = runtime.scripting
        return (
            build_control_app(
                expose,
                metrics,
                label=runtime.document.title,
                spec_version=runtime.document.spec_version,
                version=runtime.document.info.version if runtime.document.info else None,
                binds=runtime.binds,
                browsers=runtime.options.browser_policy(),
                plane=plane if plane is not None else FixedPlane(runtimes),
                base_dir=runtime.base_dir,
                scripting={
                    "enabled": scripting.enabled,
                    "timeout": scripting.timeout_ms,
                    "statementLimit": scripting.statement_limit,
                    "defaultLanguage": scripting.default_language,
                    "defaultLocation": scripting.default_location,
                    "allowedLanguages": scripting.allowed_languages,
                },
            ),
            endpoint_summary(expose),
            "",
        )
    return f"unsupported adapter type {getattr(expose, 'type', '?')!r}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _forwards(n: int) -> str:
    return f", {_count(n, 'forward')}" if n else ""


def _mcp_summary(plan: Any) -> str:
    parts = [_count(len(plan.tools), "tool")]
    resources = len(plan.static_resources) + len(plan.dynamic_resources)
    if resources:
        parts.append(_count(resources, "resource"))
    if plan.prompts:
        parts.append(_count(len(plan.prompts), "prompt"))
    return ", ".join(parts)
