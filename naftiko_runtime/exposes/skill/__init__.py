"""Skill adapter: a read-only catalog of agent skills, one Starlette app per ``type: skill`` expose.

Usage::

    runtime = Runtime.build(load("capability.yaml"))
    app = build_skill_app(runtime.skills[0], runtime.context)   # serve it with uvicorn
    app.state.catalog.listing()                                  # what GET /skills answers
"""

from .app import build_skill_app
from .catalog import Skill, SkillCatalog, build_catalog

__all__ = ["Skill", "SkillCatalog", "build_catalog", "build_skill_app"]
