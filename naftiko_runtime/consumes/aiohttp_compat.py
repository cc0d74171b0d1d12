"""Every use of aiohttp's internals, in one place; tests/runtime/test_compat.py fails as soon as an
upgrade removes one of them."""

from __future__ import annotations

import aiohttp


def without_hidden_retry(session: aiohttp.ClientSession) -> None:
    """Switch off aiohttp's silent resend of an idempotent request when a pooled connection drops
    (``ClientSession._retry_connection``): the transport retries itself, counted by ``retries``."""
    if hasattr(session, "_retry_connection"):  # gone in some release: the test says so, serving goes on
        session._retry_connection = False
