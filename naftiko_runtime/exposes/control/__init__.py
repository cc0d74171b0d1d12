"""The control adapter (health, status, metrics)."""

from .app import build_control_app

__all__ = ["build_control_app"]
