"""naftiko-runtime: load Naftiko capability documents and serve them (REST, MCP, Skill, Control)."""

from .errors import NaftikoError, Problem, SpecError
from .spec import Document, check, load, loads

__all__ = ["Document", "NaftikoError", "Problem", "SpecError", "check", "load", "loads"]
