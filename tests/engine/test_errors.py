"""Upstream failures become typed errors that name the operation (and the status), never a secret."""

from __future__ import annotations

import time

import pytest

from naftiko_runtime.consumes.transport import TransportSettings
from naftiko_runtime.errors import (
    DecodeError,
    InvocationError,
    UnitDeadlineExceeded,
    UpstreamError,
    UpstreamRedirect,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from tests.support.servers import free_port
from tests.support.upstream import RecordedRequest, RecordingUpstream

from .helpers import call, doc, error_texts, failure

SECRET = "Token sup3r-s3cret-value"
ENV = {"LABEL_STUDIO_API_KEY": SECRET, "QUERY_KEY": "qk-s3cret-in-the-url"}

TEXT = doc(
    """
    binds:
    - namespace: env
      keys:
        LABEL_STUDIO_API_KEY: LABEL_STUDIO_API_KEY
        QUERY_KEY: QUERY_KEY
    capability:
      consumes:
      - type: http
        namespace: ls
        baseUri: http://upstream.invalid
        authentication:
          type: apikey
          key: Authorization
          value: "{{env.LABEL_STUDIO_API_KEY}}"
          placement: header
        inputParameters:
        - {name: key, in: query, value: "{{QUERY_KEY}}"}
        resources:
        - name: runs
          path: /runs/{{run}}
          operations:
          - name: get-run
            inputParameters:
            - {name: run, in: path}
          - name: create-run
            method: POST
            inputParameters:
            - {name: run, in: path}
      exposes:
      - type: mcp
        namespace: tools
        port: 9000
        tools:
        - name: get-run
          description: Get one run
          call: ls.get-run
          with:
            run: tools.run
    """
)


def assert_no_secret(error: BaseException) -> None:
    texts = error_texts(error)
    for value in ENV.values():
        assert value not in texts
        assert value.split()[-1] not in texts  # not even the token without its scheme


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 429])
def test_4xx_is_an_upstream_error_with_status_and_operation(upstream: RecordingUpstream, status: int) -> None:
    upstream.route("GET", "/runs/{run}", json={"detail": f"nope {status}"}, status=status)
    error = failure(UpstreamError, TEXT, upstream.url, "get-run", {"run": "7"}, environ=ENV)
    assert error.status == status
    assert error.operation == "ls.get-run"
    assert "ls.get-run" in str(error) and str(status) in str(error)
    assert f"nope {status}" in str(error)
    assert error.body == {"detail": f"nope {status}"}
    assert_no_secret(error)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_an_upstream_error(upstream: RecordingUpstream, status: int) -> None:
    upstream.route("GET", "/runs/{run}", text="<html>Bad Gateway</html>\nmore", status=status)
    error = failure(UpstreamError, TEXT, upstream.url, "get-run", {"run": "7"}, environ=ENV)
    assert (error.status, error.operation) == (status, "ls.get-run")
    assert str(error) == f"upstream ls.get-run answered {status}: <html>Bad Gateway</html>"
    assert len(upstream.requests) == 1  # an answer, even a 5xx, is never retried
    assert_no_secret(error)


def test_an_upstream_echoing_the_credential_does_not_leak_it(upstream: RecordingUpstream) -> None:
    def echo(request: RecordedRequest) -> tuple[int, None, dict[str, object]]:
        return (
            401,
            None,
            {
                "detail": f"Invalid token: {request.headers['authorization']}"
                f" (key {request.query_param('key')})",
                "seen": {"headers": dict(request.headers), "url": request.target},
            },
        )

    upstream.route("GET", "/runs/{run}", handler=echo)
    error = failure(UpstreamError, TEXT, upstream.url, "get-run", {"run": "7"}, environ=ENV)
    assert error.status == 401
    assert "Invalid token: ****" in str(error)
    assert_no_secret(error)


def test_an_echo_in_a_text_error_body_does_not_leak_it(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/runs/{run}", handler=lambda r: (500, None, f"boom {r.headers['authorization']}"))
    error = failure(UpstreamError, TEXT, upstream.url, "get-run", {"run": "7"}, environ=ENV)
    assert str(error) == "upstream ls.get-run answered 500: boom ****"
    assert_no_secret(error)


def test_read_timeout_shorter_than_the_upstream_delay(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/runs/{run}", json={"late": True}, delay=1.0)
    fast = TransportSettings(connect_timeout=1.0, read_timeout=0.3, retries=2, retry_backoff=0.01)
    started = time.monotonic()
    error = failure(UpstreamTimeout, TEXT, upstream.url, "get-run", {"run": "7"}, environ=ENV, transport=fast)
    assert time.monotonic() - started < 0.95  # the upstream answers only after 1 s
    assert error.operation == "ls.get-run"
    assert error.phase == "read"
    assert "ls.get-run" in str(error) and "timed out" in str(error)
    assert len(upstream.requests) == 1  # a timeout is never retried: the request may have run
    assert_no_secret(error)


def test_the_unit_deadline_bounds_the_whole_call(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/runs/{run}", json={"late": True}, delay=1.0)
    started = time.monotonic()
    error = failure(
        (UpstreamTimeout, UnitDeadlineExceeded), TEXT, upstream.url, "get-run", {"run": "7"},
        environ=ENV, deadline_s=0.3,
    )  # fmt: skip
    assert time.monotonic() - started < 0.95  # the upstream answers only after 1 s
    assert "ls.get-run" in str(error) or "get-run" in str(error)


def test_refused_connection_is_unavailable(upstream: RecordingUpstream) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    error = failure(UpstreamUnavailable, TEXT, dead, "get-run", {"run": "7"}, environ=ENV)
    assert time.monotonic() - started < 1.0  # two quick retries, then the error
    assert error.operation == "ls.get-run"
    assert "ls.get-run" in str(error)
    assert "cannot connect to 127.0.0.1" in str(error)
    assert_no_secret(error)


def test_invalid_json_is_a_decode_error(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/runs/{run}", body=b'{"id": 1, "broken": ', content_type="application/json")
    error = failure(DecodeError, TEXT, upstream.url, "get-run", {"run": "7"}, environ=ENV)
    assert error.operation == "ls.get-run"
    assert error.format == "json"
    assert "ls.get-run" in str(error) and "json" in str(error)
    assert_no_secret(error)


def test_html_answer_where_json_was_declared_is_a_decode_error(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/runs/{run}", text=f"<html>login {SECRET}</html>", content_type="text/html")
    error = failure(DecodeError, TEXT, upstream.url, "get-run", {"run": "7"}, environ=ENV)
    assert error.operation == "ls.get-run"
    assert_no_secret(error)


def test_every_invocation_error_is_an_invocation_error(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/runs/{run}", status=404, json={"detail": "Not found."})
    error = failure(InvocationError, TEXT, upstream.url, "ls.get-run", {"run": "7"}, environ=ENV)
    assert isinstance(error, UpstreamError)


def test_empty_and_204_answers_are_not_errors(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/runs/{run}", status=204, body=b"")
    assert call(TEXT, upstream.url, "get-run", {"run": "7"}, environ=ENV).value is None
    upstream.route("GET", "/runs/{run}", status=200, body=b"")
    assert call(TEXT, upstream.url, "get-run", {"run": "7"}, environ=ENV).value is None


def test_redirects_are_not_followed(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/runs/{run}", status=302, headers={"Location": "http://evil.invalid/"}, body=b"")
    error = failure(UpstreamRedirect, TEXT, upstream.url, "ls.get-run", {"run": "7"}, environ=ENV)
    assert error.status == 302
    assert str(error) == "upstream ls.get-run answered 302 to http://evil.invalid; redirects are not followed"
    assert len(upstream.requests) == 1  # the credential never travels to another host
