"""The Label Studio stand-in, exercised over real sockets the way the runtime will call it."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import jsonschema
import pytest

from tests.support.servers import ServerThread, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "label_studio_standin.py"
TOKEN = "demo-token"
AUTH = {"Authorization": f"Token {TOKEN}"}
RUNS = "/api/prompts/1/versions/1/inference-runs"


def load_standin() -> ModuleType:
    """Import the example by path (``examples/`` is not a package)."""
    spec = importlib.util.spec_from_file_location("label_studio_standin", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


standin = load_standin()

# The ModelRun object as Label Studio's API reference describes it (required fields and types).
NULLABLE_INT = {"type": ["integer", "null"]}
NULLABLE_STR = {"type": ["string", "null"]}
MODEL_RUN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "completed_at",
        "created_at",
        "created_by",
        "id",
        "parent_model",
        "project",
        "source_model_run",
        "status",
        "task_ids",
        "triggered_at",
    ],
    "properties": {
        "id": {"type": "integer"},
        "parent_model": {"type": "integer"},
        "project": {"type": "integer"},
        "project_subset": {"enum": ["All", "HasGT", "Sample", "Custom"]},
        "status": {"enum": ["Pending", "InProgress", "Completed", "Failed", "Canceled"]},
        "job_id": NULLABLE_STR,
        "created_at": {"type": "string", "format": "date-time"},
        "triggered_at": NULLABLE_STR,
        "completed_at": NULLABLE_STR,
        "predictions_updated_at": NULLABLE_STR,
        "organization": NULLABLE_INT,
        "sample_subset_size": NULLABLE_INT,
        "source_model_run": NULLABLE_INT,
        "total_predictions": NULLABLE_INT,
        "total_correct_predictions": NULLABLE_INT,
        "total_tasks": NULLABLE_INT,
        "created_by": {
            "type": "object",
            "required": ["avatar", "id", "username"],
            "properties": {"id": {"type": "integer"}, "username": {"type": "string"}},
        },
    },
}


RECORDS: list[Any] = []


@pytest.fixture(scope="module")
def standin_server() -> Iterator[ServerThread]:
    """One stand-in for the module; each test gets it back in its seeded state (see ``server``)."""
    with ServerThread(standin.create_app(TOKEN, recorder=RECORDS.append)) as running:
        yield running


@pytest.fixture
def server(standin_server: ServerThread) -> ServerThread:
    standin_server.app.state.store = standin.Store.seeded()
    RECORDS.clear()
    return standin_server


@pytest.fixture
def records(server: ServerThread) -> list[Any]:
    return RECORDS


@pytest.fixture
def client(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=5) as http:
        yield http


def ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [run["id"] for run in response.json()]


# -- health and authentication ---------------------------------------------------------------------


def test_health_needs_no_token(server: ServerThread) -> None:
    response = httpx.get(server.url + "/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Authentication credentials were not provided."),
        ({"Authorization": f"Bearer {TOKEN}"}, "Authentication credentials were not provided."),
        ({"Authorization": "Token"}, "Invalid token header. No credentials provided."),
        ({"Authorization": "Token a b"}, "Invalid token header. Token string should not contain spaces."),
        ({"Authorization": "Token wrong-token"}, "Invalid token."),
        ({"Authorization": TOKEN}, "Authentication credentials were not provided."),
    ],
)
def test_every_api_call_needs_the_token(server: ServerThread, headers: dict[str, str], detail: str) -> None:
    for method, path in (("GET", RUNS), ("POST", RUNS), ("POST", RUNS + "/1/cancel")):
        response = httpx.request(method, server.url + path, headers=headers, json={"project": 1})
        assert response.status_code == 401
        assert response.json() == {"detail": detail}
        assert response.headers["www-authenticate"] == "Token"


def test_token_keyword_is_case_insensitive_like_drf(server: ServerThread) -> None:
    assert httpx.get(server.url + RUNS, headers={"Authorization": f"token {TOKEN}"}).status_code == 200


def test_auth_comes_before_not_found_and_method_checks(server: ServerThread) -> None:
    assert httpx.get(server.url + "/api/prompts/99/versions/1/inference-runs").status_code == 401
    assert httpx.put(server.url + RUNS).status_code == 401


# -- list ------------------------------------------------------------------------------------------


def test_list_returns_seeded_model_runs(client: httpx.Client) -> None:
    response = client.get(RUNS)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    runs = response.json()
    assert [(r["id"], r["status"], r["project"], r["project_subset"]) for r in runs] == [
        (1, "Completed", 1, "All"),
        (2, "InProgress", 1, "HasGT"),
        (3, "Pending", 2, "Sample"),
    ]
    for run in runs:
        jsonschema.validate(run, MODEL_RUN_SCHEMA)
        assert run["parent_model"] == 1
    assert runs[0]["total_correct_predictions"] == 103
    assert runs[2]["sample_subset_size"] == 25


def test_other_version_has_no_runs(client: httpx.Client) -> None:
    assert client.get("/api/prompts/1/versions/2/inference-runs").json() == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"project": "1"}, [1, 2]),
        ({"project": "2"}, [3]),
        ({"project": "3"}, []),
        ({"project_subset": "Sample"}, [3]),
        ({"project_subset": "HasGT", "project": "1"}, [2]),
        ({"parent_model": "1"}, [1, 2, 3]),
        ({"parent_model": "2"}, []),
        ({"project": "", "project_subset": ""}, [1, 2, 3]),  # empty filters are ignored
        ({"ordering": "-id"}, [3, 2, 1]),
        ({"ordering": "-created_at"}, [3, 2, 1]),
        ({"ordering": "project,-id"}, [2, 1, 3]),
        ({"ordering": "status"}, [1, 2, 3]),  # Completed < InProgress < Pending
        ({"ordering": "completed_at"}, [1, 2, 3]),  # NULLs last ascending
        ({"ordering": "-completed_at"}, [2, 3, 1]),  # NULLs first descending
        ({"ordering": "no_such_field"}, [1, 2, 3]),  # unknown fields are ignored
    ],
)
def test_list_filters_and_ordering(client: httpx.Client, query: dict[str, str], expected: list[int]) -> None:
    assert ids(client.get(RUNS, params=query)) == expected


def test_list_rejects_malformed_filters_like_django_filter(client: httpx.Client) -> None:
    response = client.get(RUNS, params={"project": "one", "parent_model": "1.5", "project_subset": "Custom"})
    assert response.status_code == 400
    assert response.json() == {
        "project": ["Enter a whole number."],
        "parent_model": ["Enter a whole number."],
        "project_subset": ["Select a valid choice. Custom is not one of the available choices."],
    }


def test_head_is_answered_without_a_body(client: httpx.Client) -> None:
    response = client.head(RUNS)
    assert response.status_code == 200 and response.content == b""


# -- not found and method not allowed --------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/prompts/2/versions/1/inference-runs"),
        ("GET", "/api/prompts/1/versions/9/inference-runs"),
        ("POST", "/api/prompts/1/versions/9/inference-runs"),
        ("GET", "/api/prompts/abc/versions/1/inference-runs"),
        ("GET", "/api/prompts/1/versions/1.5/inference-runs"),
        ("GET", "/api/prompts/-1/versions/1/inference-runs"),
        ("GET", RUNS + "/"),  # no trailing-slash redirect
        ("POST", RUNS + "/999/cancel"),
        ("POST", RUNS + "/x/cancel"),
        ("POST", "/api/prompts/1/versions/2/inference-runs/1/cancel"),  # run 1 belongs to version 1
        ("GET", "/api/projects"),
        ("GET", "/"),
    ],
)
def test_not_found(client: httpx.Client, method: str, path: str) -> None:
    response = client.request(method, path, json={"project": 1})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_method_not_allowed(client: httpx.Client) -> None:
    response = client.get(RUNS + "/1/cancel")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "GET" not allowed.'}
    assert response.headers["allow"] == "POST"
    response = client.delete(RUNS)
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "DELETE" not allowed.'}
    assert response.headers["allow"] == "GET, POST, HEAD"
    health = client.post("/health")
    assert (health.status_code, health.json()) == (405, {"detail": 'Method "POST" not allowed.'})


# -- create ----------------------------------------------------------------------------------------


def test_create_starts_a_pending_run(client: httpx.Client) -> None:
    response = client.post(RUNS, json={"project": 2, "project_subset": "HasGT", "job_id": "job-42"})
    assert response.status_code == 201
    run = response.json()
    jsonschema.validate(run, MODEL_RUN_SCHEMA)
    assert run["id"] == 4
    assert (run["status"], run["project"], run["project_subset"], run["parent_model"]) == (
        "Pending",
        2,
        "HasGT",
        1,
    )
    assert run["job_id"] == "job-42"
    assert run["completed_at"] is None and run["triggered_at"] is None
    assert run["created_at"].endswith("Z")
    assert ids(client.get(RUNS)) == [1, 2, 3, 4]
    assert ids(client.get(RUNS, params={"project": "2"})) == [3, 4]


def test_create_defaults_and_coercions(client: httpx.Client) -> None:
    run = client.post(
        RUNS, json={"project": "3", "sample_subset_size": "10", "only_missing_predictions": True}
    )
    assert run.status_code == 201, run.text
    body = run.json()
    assert (body["project"], body["project_subset"], body["sample_subset_size"]) == (3, "All", 10)
    assert "only_missing_predictions" not in body  # a request option, not a ModelRun field
    second = client.post(RUNS, json={"project": 1, "id": 999, "status": "Completed"})
    assert second.status_code == 201
    assert (second.json()["id"], second.json()["status"]) == (5, "Pending")  # read-only fields ignored


def test_create_accepts_a_form_body(client: httpx.Client) -> None:
    response = client.post(RUNS, data={"project": "1", "project_subset": "Sample"})
    assert response.status_code == 201, response.text
    assert (response.json()["project"], response.json()["project_subset"]) == (1, "Sample")


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"project": ["This field is required."]}),
        ({"project_subset": "All"}, {"project": ["This field is required."]}),
        ({"project": None}, {"project": ["This field may not be null."]}),
        ({"project": "abc"}, {"project": ["Incorrect type. Expected pk value, received str."]}),
        ({"project": True}, {"project": ["Incorrect type. Expected pk value, received bool."]}),
        ({"project": [1]}, {"project": ["Incorrect type. Expected pk value, received list."]}),
        ({"project": 42}, {"project": ['Invalid pk "42" - object does not exist.']}),
        (
            {"project": 1, "project_subset": "Everything"},
            {"project_subset": ['"Everything" is not a valid choice.']},
        ),
        ({"project": 1, "project_subset": None}, {"project_subset": ["This field may not be null."]}),
        (
            {"project": 1, "sample_subset_size": "many"},
            {"sample_subset_size": ["A valid integer is required."]},
        ),
        ({"project": 1, "total_tasks": 1.5}, {"total_tasks": ["A valid integer is required."]}),
        ({"project": 1, "job_id": {"a": 1}}, {"job_id": ["Not a valid string."]}),
        (
            {"project": 1, "only_missing_predictions": "maybe"},
            {"only_missing_predictions": ["Must be a valid boolean."]},
        ),
        (
            {"project": 1, "predictions_updated_at": "yesterday"},
            {
                "predictions_updated_at": [
                    "Datetime has wrong format. Use one of these formats instead: "
                    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
                ]
            },
        ),
        (
            {"project_subset": "Nope", "sample_subset_size": "x"},
            {
                "project": ["This field is required."],
                "project_subset": ['"Nope" is not a valid choice.'],
                "sample_subset_size": ["A valid integer is required."],
            },
        ),
        ([{"project": 1}], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
        ("All", {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}),
        (None, {"non_field_errors": ["This field may not be null."]}),
    ],
)
def test_create_rejects_bad_bodies_with_drf_field_errors(
    client: httpx.Client, body: Any, errors: Any
) -> None:
    # Sent by hand: httpx's json=None would send no body at all rather than `null`.
    raw = json.dumps(body).encode()
    response = client.post(RUNS, content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == errors
    assert ids(client.get(RUNS)) == [1, 2, 3]  # nothing was created


def test_create_with_malformed_json_or_unsupported_type(client: httpx.Client) -> None:
    bad_json = client.post(RUNS, content=b'{"project": 1,', headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400
    assert bad_json.json()["detail"].startswith("JSON parse error - ")
    text = client.post(RUNS, content=b"project=1", headers={"Content-Type": "text/plain"})
    assert text.status_code == 415
    assert text.json() == {"detail": 'Unsupported media type "text/plain" in request.'}


def test_create_with_empty_body_is_missing_project(client: httpx.Client) -> None:
    response = client.post(RUNS)
    assert (response.status_code, response.json()) == (400, {"project": ["This field is required."]})


# -- cancel ----------------------------------------------------------------------------------------


def test_cancel_returns_the_canceled_run(client: httpx.Client) -> None:
    response = client.post(RUNS + "/2/cancel")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"]) == (2, "Canceled")
    assert body["detail"] == "Inference run 2 canceled."  # the reference's CancelModelRunResponse field
    jsonschema.validate({k: v for k, v in body.items() if k != "detail"}, MODEL_RUN_SCHEMA)
    statuses = {run["id"]: run["status"] for run in client.get(RUNS).json()}
    assert statuses == {1: "Completed", 2: "Canceled", 3: "Pending"}
    assert client.post(RUNS + "/2/cancel").json()["status"] == "Canceled"  # idempotent


def test_cancel_a_run_created_through_the_api(client: httpx.Client) -> None:
    created = client.post(RUNS, json={"project": 1}).json()
    canceled = client.post(f"{RUNS}/{created['id']}/cancel")
    assert canceled.json()["status"] == "Canceled"


# -- recorder, logging, state ----------------------------------------------------------------------


def test_recorder_sees_each_request_with_headers_body_and_status(
    client: httpx.Client, records: list[Any]
) -> None:
    client.post(RUNS + "?trace=1", json={"project": 1})
    client.get("/api/prompts/1/versions/x/inference-runs")
    first, second = records
    assert (first.method, first.path, first.query_string, first.status) == ("POST", RUNS, "trace=1", 201)
    assert first.header("Authorization") == f"Token {TOKEN}"
    assert first.json == {"project": 1}
    assert first.duration_ms >= 0
    assert (second.raw_path, second.status) == ("/api/prompts/1/versions/x/inference-runs", 404)


def test_one_log_line_per_request_without_the_token(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="label_studio_standin"):
        client.get(RUNS, params={"project": "1"})
        client.post(RUNS, json={})
    lines = [r.getMessage() for r in caplog.records if r.name == "label_studio_standin"]
    assert len(lines) == 2
    assert '"GET /api/prompts/1/versions/1/inference-runs?project=1 HTTP/1.1" 200' in lines[0]
    assert '"POST /api/prompts/1/versions/1/inference-runs HTTP/1.1" 400' in lines[1]
    assert TOKEN not in caplog.text


def test_recorder_may_be_a_list() -> None:
    seen: list[Any] = []
    with ServerThread(standin.create_app(TOKEN, recorder=seen)) as running:
        httpx.get(running.url + "/health")
    assert [(r.path, r.status) for r in seen] == [("/health", 200)]


def test_state_is_per_app_and_reachable() -> None:
    one = standin.create_app(TOKEN)
    two = standin.create_app(TOKEN)
    one.state.store.add_run(1, version_id=1, project=1)
    assert len(one.state.store.runs) == 4 and len(two.state.store.runs) == 3
    with pytest.raises(ValueError):
        standin.create_app("")


# -- the command line ------------------------------------------------------------------------------


def test_cli_serves_logs_to_stderr_and_reads_the_token_from_the_environment() -> None:
    port = free_port()
    env = {**os.environ, "LABEL_STUDIO_STANDIN_TOKEN": "env-token-123"}
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port("127.0.0.1", port, timeout=20)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(base + "/health").json() == {"status": "ok"}
        assert httpx.get(base + RUNS, headers={"Authorization": "Token env-token-123"}).status_code == 200
        assert httpx.get(base + RUNS, headers=AUTH).status_code == 401
        time.sleep(0.2)  # let the log lines reach the pipe
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr  # SIGTERM is a clean, graceful stop
    assert f"serving on http://127.0.0.1:{port}" in stderr
    assert '"GET /health HTTP/1.1" 200' in stderr
    assert f'"GET {RUNS} HTTP/1.1" 200' in stderr
    assert f'"GET {RUNS} HTTP/1.1" 401' in stderr
    assert "env-token-123" not in stderr


def test_cli_token_flag_and_missing_token() -> None:
    env = {k: v for k, v in os.environ.items() if k != "LABEL_STUDIO_STANDIN_TOKEN"}
    missing = subprocess.run(
        [sys.executable, str(SCRIPT), "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert missing.returncode == 2
    assert "a token is required" in missing.stderr

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--port", str(port), "--token", "flag-token"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port("127.0.0.1", port, timeout=20)
        response = httpx.get(f"http://127.0.0.1:{port}{RUNS}", headers={"Authorization": "Token flag-token"})
        assert response.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=20)
