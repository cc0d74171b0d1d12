"""What ``naftiko serve`` tells operators: logs, one access line per request, Prometheus metrics."""

from .access import AccessLog
from .context import add_upstream_ms, note_unit
from .logs import configure, flush
from .metrics import Metrics

__all__ = ["AccessLog", "Metrics", "add_upstream_ms", "configure", "flush", "note_unit"]
