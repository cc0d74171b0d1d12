"""Where the Naftiko framework's published files are, and the skip marker for when they are absent.

The fixtures are the framework's own files (tutorial and ``src/test/resources``), read as published
from ``../shared/conformance`` next to this checkout; the small inline capabilities of the Java
tests that declare their YAML in code live in ``capabilities/`` next to this module.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
CONFORMANCE = REPO / ".." / "shared" / "conformance"
FRAMEWORK = CONFORMANCE / "naftiko-framework-1.0.0-alpha2"
TUTORIAL = FRAMEWORK / "src" / "main" / "resources" / "tutorial"
RESOURCES = FRAMEWORK / "src" / "test" / "resources"
SECRETS = TUTORIAL / "shared" / "secrets.yaml"
INLINE = Path(__file__).resolve().parent / "capabilities"

requires_framework = pytest.mark.skipif(
    not TUTORIAL.is_dir() or not RESOURCES.is_dir(),
    reason=f"the Naftiko framework's conformance files are not at {CONFORMANCE.resolve()}",
)


def secret(key: str) -> str:
    """A value of the tutorial's ``shared/secrets.yaml`` (what a client of the tutorial is given)."""
    return str(yaml.safe_load(SECRETS.read_text(encoding="utf-8"))[key])


def tutorial(name: str) -> Path:
    return TUTORIAL / name


def resource(name: str) -> Path:
    return RESOURCES / name


def inline(name: str) -> Path:
    return INLINE / name
