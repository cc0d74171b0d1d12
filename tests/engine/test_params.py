"""Consumed parameters on the wire: every location, encoding edge cases, query rules, merged levels.

Each test invokes a unit of a small inline capability against a :class:`RecordingUpstream` and
asserts what the upstream received, byte for byte where the encoding matters.
"""

from __future__ import annotations

import asyncio

import pytest

from naftiko_runtime.errors import InputError
from tests.support.upstream import RecordingUpstream

from .helpers import call, doc, failure, running

ALL_LOCATIONS = doc(
    """
    capability:
      consumes:
      - type: http
        namespace: up
        baseUri: http://upstream.invalid
        resources:
        - name: items
          path: /items/{{id}}
          operations:
          - name: update
            method: PUT
            inputParameters:
            - {name: id, in: path}
            - {name: q, in: query}
            - {name: X-Trace, in: header}
            - {name: session, in: cookie}
            - {name: title, in: body}
            - {name: count, in: body, type: integer}
    """
)


def test_every_location_reaches_its_place(upstream: RecordingUpstream) -> None:
    call(
        ALL_LOCATIONS,
        upstream.url,
        "up.update",
        {"id": "A-1", "q": "ships", "X-Trace": "t-42", "session": "s1", "title": "Ever Given", "count": "3"},
    )
    got = upstream.last
    assert got.method == "PUT"
    assert got.raw_path == "/items/A-1"
    assert got.raw_query == "q=ships"
    assert got.headers["x-trace"] == "t-42"
    assert got.headers["cookie"] == "session=s1"
    assert got.headers["content-type"] == "application/json"
    assert got.json == {"title": "Ever Given", "count": 3}


def test_whole_body_parameter_is_the_payload(upstream: RecordingUpstream) -> None:
    text = doc(
        """
        capability:
          consumes:
          - type: http
            namespace: up
            baseUri: http://upstream.invalid
            resources:
            - name: runs
              path: /runs
              operations:
              - name: create
                method: POST
                inputParameters:
                - {name: body, in: body, type: object}
        """
    )
    call(text, upstream.url, "up.create", {"body": {"project": 5, "tags": ["a", "b"], "on": True}})
    assert upstream.last.json == {"project": 5, "tags": ["a", "b"], "on": True}
    assert upstream.last.headers["content-type"] == "application/json"
    call(text, upstream.url, "up.create", {"body": '{"project": 6}'})  # JSON text is coerced to an object
    assert upstream.last.json == {"project": 6}


EDGE_VALUES = [
    # value, raw path segment, raw query value
    ("../admin", "..%2Fadmin", "../admin"),
    ("a/b", "a%2Fb", "a/b"),
    ("?x", "%3Fx", "?x"),
    ("#", "%23", "%23"),
    ("..", "%2E%2E", ".."),
    (".", "%2E", "."),
    ("a b", "a%20b", "a%20b"),
    ("é€", "%C3%A9%E2%82%AC", "%C3%A9%E2%82%AC"),
    ("%", "%25", "%25"),
    ("%2F", "%252F", "%252F"),
    ("a&b=c", "a&b=c", "a%26b%3Dc"),
    ("1+1", "1%2B1", "1%2B1"),
    ("x;y", "x%3By", "x%3By"),
]


@pytest.mark.parametrize(("value", "segment", "query"), EDGE_VALUES, ids=[v[0] for v in EDGE_VALUES])
def test_edge_values_cannot_change_the_request_structure(
    upstream: RecordingUpstream, value: str, segment: str, query: str
) -> None:
    call(ALL_LOCATIONS, upstream.url, "up.update", {"id": value, "q": value, "X-Trace": value})
    got = upstream.last
    assert got.raw_path == f"/items/{segment}"  # one segment, never a climb or a new query
    assert got.raw_query == f"q={query}"
    assert got.query == {"q": [value]}  # and it decodes back to exactly the value
    # Header values go as UTF-8 bytes (the recording server reads header bytes as latin-1).
    assert got.headers["x-trace"].encode("latin-1").decode("utf-8") == value


def test_path_value_with_dots_stays_below_the_resource(upstream: RecordingUpstream) -> None:
    call(ALL_LOCATIONS, upstream.url + "/api/v2", "up.update", {"id": "../../admin"})
    assert upstream.last.raw_path == "/api/v2/items/..%2F..%2Fadmin"
    assert upstream.last.path.startswith("/api/v2/items/")


@pytest.mark.parametrize("bad", ["a\r\nX-Injected: 1", "line\nbreak", "cr\r", "nul\x00"])
def test_line_breaks_in_a_header_are_refused_before_any_request(
    upstream: RecordingUpstream, bad: str
) -> None:
    error = failure(InputError, ALL_LOCATIONS, upstream.url, "up.update", {"id": "1", "X-Trace": bad})
    assert [p.name for p in error.problems] == ["X-Trace"]
    assert "up.update" in error.operation
    assert upstream.requests == []


def test_cookie_values_are_encoded_not_refused(upstream: RecordingUpstream) -> None:
    call(ALL_LOCATIONS, upstream.url, "up.update", {"id": "1", "session": 'a b;c=d,"e"'})
    cookie = upstream.last.headers["cookie"]
    assert cookie == "session=a%20b%3Bc=d%2C%22e%22"
    assert cookie.count(";") == 0  # one cookie, whatever the value holds


def test_cookie_with_a_line_break_is_encoded_too(upstream: RecordingUpstream) -> None:
    call(ALL_LOCATIONS, upstream.url, "up.update", {"id": "1", "session": "a\r\nb"})
    assert upstream.last.headers["cookie"] == "session=a%0D%0Ab"


QUERY = doc(
    """
    capability:
      consumes:
      - type: http
        namespace: up
        baseUri: http://upstream.invalid
        resources:
        - name: search
          path: /search
          operations:
          - name: find
            inputParameters:
            - {name: q, in: query}
            - {name: limit, in: query, type: integer}
            - {name: ratio, in: query, type: number}
            - {name: exact, in: query, type: boolean}
            - {name: tag, in: query, type: array}
            - {name: page, in: query}
    """
)


def test_absent_optional_query_parameters_are_omitted(upstream: RecordingUpstream) -> None:
    call(QUERY, upstream.url, "up.find", {"q": "x"})
    assert upstream.last.raw_query == "q=x"
    call(QUERY, upstream.url, "up.find", {})
    assert upstream.last.raw_query == ""
    assert upstream.last.target == "/search"


def test_query_booleans_integers_and_lists(upstream: RecordingUpstream) -> None:
    call(QUERY, upstream.url, "up.find", {"exact": True, "limit": 5.0, "ratio": 0.5, "tag": ["a", "b c"]})
    assert upstream.last.raw_query == "limit=5&ratio=0.5&exact=true&tag=a&tag=b%20c"
    call(QUERY, upstream.url, "up.find", {"exact": "false", "limit": "7", "tag": '["x"]'})
    assert upstream.last.raw_query == "limit=7&exact=false&tag=x"


def test_an_empty_string_is_sent_a_none_is_not(upstream: RecordingUpstream) -> None:
    call(QUERY, upstream.url, "up.find", {"q": "", "page": None})
    assert upstream.last.raw_query == "q="


def test_numbers_given_as_floats_by_json_lose_the_dot_zero(upstream: RecordingUpstream) -> None:
    call(ALL_LOCATIONS, upstream.url, "up.update", {"id": 5.0, "q": 12.0, "X-Trace": 3.0})
    assert upstream.last.raw_path == "/items/5"
    assert upstream.last.raw_query == "q=12"
    assert upstream.last.headers["x-trace"] == "3"


LEVELS = doc(
    """
    capability:
      consumes:
      - type: http
        namespace: up
        baseUri: http://upstream.invalid
        inputParameters:
        - {name: X-Level, in: header, value: consumes}
        - {name: X-From-Consumes, in: header, value: c}
        - {name: version, in: query, value: "1"}
        resources:
        - name: items
          path: /items
          inputParameters:
          - {name: X-Level, in: header, value: resource}
          - {name: X-From-Resource, in: header, value: r}
          - {name: version, in: query, value: "2"}
          operations:
          - name: list
            inputParameters:
            - {name: X-Level, in: header, value: operation}
          - name: plain
          - name: again
            inputParameters:
            - {name: version, in: query}
        - name: other
          path: /other
          operations:
          - name: bare
    """
)


def test_parameters_merge_across_levels_and_the_operation_wins(upstream: RecordingUpstream) -> None:
    call(LEVELS, upstream.url, "up.list")
    got = upstream.last
    assert got.headers["x-level"] == "operation"
    assert got.headers["x-from-consumes"] == "c"
    assert got.headers["x-from-resource"] == "r"
    assert got.raw_query == "version=2"

    call(LEVELS, upstream.url, "up.plain")
    assert upstream.last.headers["x-level"] == "resource"

    call(LEVELS, upstream.url, "up.bare")
    assert upstream.last.headers["x-level"] == "consumes"
    assert "x-from-resource" not in upstream.last.headers
    assert upstream.last.raw_query == "version=1"


def test_operation_level_parameter_without_value_replaces_a_static_one(upstream: RecordingUpstream) -> None:
    call(LEVELS, upstream.url, "up.again", {"version": "9"})
    assert upstream.last.raw_query == "version=9"
    call(LEVELS, upstream.url, "up.again", {})
    assert upstream.last.raw_query == ""


STATICS = doc(
    """
    binds:
    - namespace: env
      keys:
        API_VERSION: API_VERSION
    capability:
      consumes:
      - type: http
        namespace: up
        baseUri: http://upstream.invalid
        inputParameters:
        - {name: Notion-Version, in: header, value: "2025-09-03"}
        - {name: X-Api-Version, in: header, value: "{{API_VERSION}}"}
        - {name: X-Qualified, in: header, value: "v{{env.API_VERSION}}"}
        resources:
        - name: pages
          path: /pages/{{page}}
          operations:
          - name: get
            inputParameters:
            - {name: page, in: path}
            - {name: limit, in: query, value: 100}
            - {name: filter, in: query, value: "owner:{{user}}"}
            - {name: X-User, in: header, value: "{{user}}"}
            - {name: flag, in: query, value: true}
    """
)


def test_static_values_and_templates(upstream: RecordingUpstream) -> None:
    environ = {"API_VERSION": "2024-01"}
    call(STATICS, upstream.url, "up.get", {"page": "p1", "user": "ana"}, environ=environ)
    got = upstream.last
    assert got.raw_path == "/pages/p1"
    assert got.headers["notion-version"] == "2025-09-03"
    assert got.headers["x-api-version"] == "2024-01"
    assert got.headers["x-qualified"] == "v2024-01"
    assert got.headers["x-user"] == "ana"
    assert got.query == {"limit": ["100"], "filter": ["owner:ana"], "flag": ["true"]}


def test_a_lone_template_with_no_value_omits_the_parameter(upstream: RecordingUpstream) -> None:
    call(STATICS, upstream.url, "up.get", {"page": "p1"}, environ={"API_VERSION": "x"})
    got = upstream.last
    assert "x-user" not in got.headers
    assert got.query["filter"] == ["owner:"]  # a template with text around a hole still renders


def test_a_missing_path_value_is_an_input_error_before_any_request(upstream: RecordingUpstream) -> None:
    error = failure(InputError, STATICS, upstream.url, "up.get", {}, environ={"API_VERSION": "x"})
    assert [p.name for p in error.problems] == ["page"]
    assert upstream.requests == []


URLS = doc(
    """
    capability:
      consumes:
      - type: http
        namespace: up
        baseUri: http://upstream.invalid/api/v1
        resources:
        - name: a
          path: /ships/{imo}/crew
          operations:
          - name: crew
            inputParameters:
            - {name: imo, in: path}
        - name: b
          path: ships
          operations:
          - name: ships
        - name: c
          path: ""
          operations:
          - name: root
    """
)


@pytest.mark.parametrize("suffix", ["/api/v1", "/api/v1/"])
def test_url_joining_keeps_the_base_path_and_tolerates_a_trailing_slash(
    upstream: RecordingUpstream, suffix: str
) -> None:
    base = upstream.url + suffix
    call(URLS, base, "up.crew", {"imo": "IMO 1"})
    assert upstream.last.raw_path == "/api/v1/ships/IMO%201/crew"  # single-brace {imo} too
    call(URLS, base, "up.ships")
    assert upstream.last.raw_path == "/api/v1/ships"  # a path without a leading slash
    call(URLS, base, "up.root")
    assert upstream.last.raw_path in ("/api/v1", "/api/v1/")


def test_the_document_base_uri_is_used_without_an_override(upstream: RecordingUpstream) -> None:
    text = URLS.replace("http://upstream.invalid/api/v1", upstream.url + "/base/")
    call(text, None, "up.ships")
    assert upstream.last.raw_path == "/base/ships"


def test_base_uri_override_replaces_host_and_base_path(upstream: RecordingUpstream) -> None:
    call(URLS, {"up": upstream.url + "/proxy"}, "up.ships")
    assert upstream.last.raw_path == "/proxy/ships"
    call(URLS, {"up": upstream.url + "/a%20b/"}, "up.crew", {"imo": "9%"})
    assert upstream.last.raw_path == "/a%20b/ships/9%25/crew"  # the base is kept as written


def test_concurrent_calls_do_not_mix_values(upstream: RecordingUpstream) -> None:
    async def go() -> None:
        async with running(ALL_LOCATIONS, upstream.url) as rt:
            await asyncio.gather(
                *(rt.invoke("up.update", {"id": str(n), "q": str(n), "X-Trace": str(n)}) for n in range(40))
            )

    asyncio.run(go())
    assert len(upstream.requests) == 40
    for request in upstream.requests:
        n = request.raw_path.rsplit("/", 1)[1]
        assert request.raw_query == f"q={n}"
        assert request.headers["x-trace"] == n
