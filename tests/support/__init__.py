"""Shared test infrastructure: real servers on loopback sockets.

* :mod:`tests.support.servers` — :class:`ServerThread` (any ASGI app under uvicorn in a background
  thread), :func:`free_port`, :func:`wait_for_port`, :func:`wait_for_port_closed`, :func:`port_is_open`.
* :mod:`tests.support.upstream` — :class:`RecordingUpstream`, an upstream API that records every
  request as it came off the wire and answers as programmed.
* :mod:`tests.support.fixtures` — opt-in pytest fixtures (``upstream``, ``upstream_server``,
  ``anyio_backend``); enable with ``pytest_plugins = ["tests.support.fixtures"]`` in tests/conftest.py.
"""

from .servers import ServerThread, free_port, port_is_open, wait_for_port, wait_for_port_closed
from .upstream import RecordedRequest, RecordingUpstream, Reply, Route

__all__ = [
    "RecordedRequest",
    "RecordingUpstream",
    "Reply",
    "Route",
    "ServerThread",
    "free_port",
    "port_is_open",
    "wait_for_port",
    "wait_for_port_closed",
]
