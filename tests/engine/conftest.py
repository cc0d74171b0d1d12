"""Engine tests run real invocations against a recording upstream on a loopback port."""

from __future__ import annotations

from tests.support.fixtures import upstream, upstream_server

__all__ = ["upstream", "upstream_server"]
