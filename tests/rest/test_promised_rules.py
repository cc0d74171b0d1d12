"""Rules the docstrings promise, guarded over a real adapter and a recording upstream (issue #16).

Each was checked to fail under a hand mutation of the code it guards: ``locate_for_rest`` sending
DELETE inputs to the body, ``spellings`` (expressions/names.py) dropping the hyphenated spelling,
and the router matching paths in document order instead of literal segments first.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.upstream import RecordingUpstream

from .conftest import CAPABILITIES, RestServer, serve_rest

PROMISED = CAPABILITIES / "promised.yaml"


@pytest.fixture(scope="module")
def promised_server(upstream_server: RecordingUpstream) -> Iterator[RestServer]:
    with serve_rest(PROMISED, base_uris={"up": upstream_server.url}) as server:
        yield server


@pytest.fixture
def api(promised_server: RestServer, upstream: RecordingUpstream) -> Iterator[httpx.Client]:
    with promised_server.client() as client:
        yield client


def test_an_unplaced_delete_input_is_read_from_the_query(api: httpx.Client) -> None:
    answer = api.delete("/archive", params={"reason": "stale"})

    assert (answer.status_code, answer.json()) == (200, "stale")


def test_an_unplaced_post_input_is_read_from_the_body(api: httpx.Client) -> None:
    answer = api.post("/archive", json={"reason": "done"})

    assert (answer.status_code, answer.json()) == (200, "done")


def test_the_hyphenated_spelling_of_an_input_is_accepted(
    api: httpx.Client, upstream: RecordingUpstream
) -> None:
    answer = api.get("/runs", params={"project-subset": "HasGT"})

    assert answer.status_code == 200
    assert upstream.last.query_items == (("project_subset", "HasGT"),)


def test_a_literal_segment_wins_over_a_placeholder_declared_before_it(api: httpx.Client) -> None:
    assert api.get("/orgs/acme/scans/archive").json() == "archive of acme"
    assert api.get("/orgs/acme/scans/s-1").json() == "scan s-1"
