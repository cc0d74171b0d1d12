"""The control adapter: the spec's management plane (health, status, config, reload, logs,
scripting, metrics, traces)."""

from .app import build_control_app, endpoint_summary
from .plane import ControlPlane, ReloadOutcome

__all__ = ["ControlPlane", "ReloadOutcome", "build_control_app", "endpoint_summary"]
