"""Every error a unit can raise, as the problem document the adapter answers with."""

from __future__ import annotations

import logging

import orjson
import pytest

from naftiko_runtime.errors import (
    DecodeError,
    InputError,
    InputProblem,
    RequestBuildError,
    ScriptError,
    StepError,
    UnitDeadlineExceeded,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from naftiko_runtime.exposes.rest.problems import for_error, upstream_passthrough

OPERATION = "api.get-ship"


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        (InputError([InputProblem("imo", "required string is missing", "path")]), 400, "invalid-input"),
        (RequestBuildError("ns.op", "a header value has a line break"), 400, "invalid-input"),
        (UpstreamError("ns.op", 500, {"secret": "stack"}), 502, "upstream-error"),
        (UpstreamError("ns.op", 503), 502, "upstream-error"),
        (
            UpstreamUnavailable("ns.op", "cannot connect to 10.0.0.7:443 (refused)"),
            502,
            "upstream-unavailable",
        ),
        (DecodeError("ns.op", "xml", "mismatched tag at line 3"), 502, "upstream-invalid-response"),
        (UpstreamTimeout("ns.op", 30000.0), 504, "upstream-timeout"),
        (UnitDeadlineExceeded(OPERATION, 60.0), 504, "deadline-exceeded"),
    ],
)
def test_error_to_problem(error: Exception, status: int, kind: str) -> None:
    problem = for_error(error, OPERATION)
    status_code, headers, body = problem.encode()

    assert status_code == status
    assert dict(headers)[b"content-type"] == b"application/problem+json"
    document = orjson.loads(body)
    assert document["type"] == f"urn:naftiko:problem:{kind}"
    assert document["status"] == status
    assert document["operation"] == OPERATION
    for leak in ("stack", "10.0.0.7", "mismatched tag"):
        assert leak not in body.decode()


def test_input_problems_use_the_wire_names() -> None:
    error = InputError(
        [InputProblem("prompt_id", "expected an integer, got 'x'", "path"), InputProblem("q", "bad", "query")]
    )

    document = for_error(error, OPERATION, {"prompt_id": "prompt-id"}).document()

    assert document["detail"] == "2 invalid parameters: prompt-id, q"
    assert document["errors"] == [
        {"name": "prompt-id", "in": "path", "reason": "expected an integer, got 'x'"},
        {"name": "q", "in": "query", "reason": "bad"},
    ]


def test_a_failed_step_is_judged_by_its_cause_and_named() -> None:
    inner = StepError("fetch-ship", UpstreamTimeout("registry.get-ship"))
    document = for_error(StepError("outer", inner), OPERATION).document()

    assert document["status"] == 504
    assert document["step"] == "outer"
    assert document["upstream"] == "registry.get-ship"


def test_script_failures_and_surprises_are_500_without_details(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="naftiko.rest"):
        script = for_error(ScriptError("score", "NameError: name 'secret_value' is not defined"), OPERATION)
        surprise = for_error(RuntimeError("password=hunter2"), OPERATION)

    assert script.status == surprise.status == 500
    assert "secret_value" not in orjson.dumps(script.document()).decode()
    assert "hunter2" not in orjson.dumps(surprise.document()).decode()
    assert surprise.document()["operation"] == OPERATION
    assert "hunter2" in caplog.text  # the details go to the log, for the operator


def test_upstream_4xx_passthrough_shapes() -> None:
    assert upstream_passthrough(UpstreamError("o", 404, None)) == (404, [(b"content-length", b"0")], b"")
    status, headers, body = upstream_passthrough(UpstreamError("o", 422, {"a": [1]}, "application/json"))
    assert (status, body, dict(headers)[b"content-type"]) == (422, b'{"a":[1]}', b"application/json")
    status, headers, body = upstream_passthrough(UpstreamError("o", 400, "bad thing", "text/html"))
    assert (body, dict(headers)[b"content-type"]) == (b"bad thing", b"text/plain; charset=utf-8")
