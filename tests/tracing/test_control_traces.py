"""The control adapter's ``GET /traces`` shows the spans the tracer records: a REST request made to
``naftiko serve`` is listed with its operation and span count, and ``/traces/{id}`` gives its tree."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.support import RecordingUpstream

from .collector import serve


def test_a_served_request_is_listed_on_the_control_adapters_traces(tmp_path: Path) -> None:
    with RecordingUpstream() as upstream:
        upstream.route("GET", "/ships/{imo}", json={"name": "Ever Given"})
        with serve(tmp_path, upstream.url, None, exporter=False) as fleet:
            assert httpx.get(f"{fleet.rest}/plain/IMO5", timeout=10).status_code == 200
            deadline = time.monotonic() + 10
            while True:
                listing = httpx.get(f"{fleet.control}/traces", timeout=10).json()
                if listing["traces"] or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            (trace,) = listing["traces"]
            assert trace["status"] == "OK" and trace["spanCount"] >= 3
            tree = httpx.get(f"{fleet.control}/traces/{trace['traceId']}", timeout=10)
            assert tree.status_code == 200
            assert "GET registry.get-ship" in tree.text
            assert httpx.get(f"{fleet.control}/traces/{'0' * 32}", timeout=10).status_code == 404
