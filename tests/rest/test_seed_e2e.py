"""The seed capability's REST expose, end to end over real sockets, against the Label Studio stand-in.

client ──httpx──▶ naftiko REST adapter ──aiohttp──▶ stand-in (records every request)
"""

from __future__ import annotations

import httpx

from .conftest import SEED, SEED_NAMESPACE, STANDIN_TOKEN, Standin, serve_rest

RUNS = "/v1/api/prompts/{prompt}/versions/{version}/inference-runs"


def runs(prompt: object = 1, version: object = 1) -> str:
    return RUNS.format(prompt=prompt, version=version)


def test_list_with_query_filters_reaches_the_upstream_exactly(seed: httpx.Client, standin: Standin) -> None:
    answer = seed.get(runs(), params={"project": "1", "ordering": "-created_at", "project_subset": "All"})

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert [run["id"] for run in answer.json()] == [1]
    [record] = standin.wait(1)
    assert record.method == "GET"
    assert record.raw_path == "/api/prompts/1/versions/1/inference-runs"
    assert sorted(record.query_string.split("&")) == [
        "ordering=-created_at",
        "project=1",
        "project_subset=All",
    ]
    assert record.header("authorization") == f"Token {STANDIN_TOKEN}"


def test_list_without_filters_sends_no_query_and_keeps_upstream_order(
    seed: httpx.Client, standin: Standin
) -> None:
    answer = seed.get(runs())

    assert answer.status_code == 200
    assert [run["id"] for run in answer.json()] == [1, 2, 3]
    assert standin.wait(1)[-1].query_string == ""


def test_caller_authorization_never_replaces_the_bind(seed: httpx.Client, standin: Standin) -> None:
    answer = seed.get(runs(), headers={"Authorization": "Token stolen"})

    assert answer.status_code == 200
    assert standin.wait(1)[-1].header("authorization") == f"Token {STANDIN_TOKEN}"


def test_create_with_a_json_body_answers_201_and_forwards_the_body(
    seed: httpx.Client, standin: Standin
) -> None:
    payload = {"project": 3, "project_subset": "HasGT", "job_id": "job-42"}

    answer = seed.post(runs(), json=payload)

    assert answer.status_code == 201
    created = answer.json()
    assert created["id"] == 4 and created["status"] == "Pending" and created["project"] == 3
    [record] = standin.wait(1)
    assert record.method == "POST"
    assert record.raw_path == "/api/prompts/1/versions/1/inference-runs"
    assert record.json == payload
    assert record.header("content-type") == "application/json"
    assert record.header("authorization") == f"Token {STANDIN_TOKEN}"
    listed = seed.get(runs(), params={"project": 3}).json()
    assert [run["id"] for run in listed] == [4]


def test_create_with_an_upstream_validation_error_passes_400_through(
    seed: httpx.Client, standin: Standin
) -> None:
    answer = seed.post(runs(), json={"project_subset": "All"})

    assert answer.status_code == 400
    assert answer.json() == {"project": ["This field is required."]}
    assert len(standin.wait(1)) == 1


def test_cancel(seed: httpx.Client, standin: Standin) -> None:
    answer = seed.post(runs() + "/2/cancel")

    assert answer.status_code == 200
    assert answer.json()["status"] == "Canceled"
    [record] = standin.wait(1)
    assert (record.method, record.raw_path) == ("POST", "/api/prompts/1/versions/1/inference-runs/2/cancel")
    assert record.header("authorization") == f"Token {STANDIN_TOKEN}"


def test_non_integer_prompt_id_is_400_naming_it_and_nothing_goes_upstream(
    seed: httpx.Client, standin: Standin
) -> None:
    answer = seed.get(runs(prompt="abc"))

    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == 400
    assert problem["operation"] == "label-studio-subpackage-prompts-subpackage-prompts-runs-rest.list"
    assert problem["errors"] == [
        {"name": "prompt-id", "in": "path", "reason": "expected an integer, got 'abc'"}
    ]
    standin.assert_untouched()


def test_every_bad_parameter_is_named_at_once(seed: httpx.Client, standin: Standin) -> None:
    answer = seed.get(runs(prompt="x", version="y"), params={"project": "three"})

    assert answer.status_code == 400
    names = [(e["name"], e["in"]) for e in answer.json()["errors"]]
    assert names == [("prompt-id", "path"), ("version-id", "path"), ("project", "query")]
    standin.assert_untouched()


def test_upstream_404_is_404_with_the_upstream_body(seed: httpx.Client, standin: Standin) -> None:
    answer = seed.get(runs(prompt=99))

    assert answer.status_code == 404
    assert answer.json() == {"detail": "Not found."}
    assert standin.wait(1)[-1].raw_path == "/api/prompts/99/versions/1/inference-runs"


def test_cancel_of_an_unknown_run_is_404(seed: httpx.Client) -> None:
    assert seed.post(runs() + "/999/cancel").status_code == 404


def test_wrong_method_is_405_with_allow(seed: httpx.Client, standin: Standin) -> None:
    answer = seed.delete(runs())

    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, HEAD, POST"
    assert answer.headers["content-type"] == "application/problem+json"
    assert seed.get(runs() + "/1/cancel").headers["allow"] == "POST"
    standin.assert_untouched()


def test_unknown_path_is_404_problem(seed: httpx.Client, standin: Standin) -> None:
    for path in ("/v1/api/prompts/1", runs() + "/", "/api/prompts/1/versions/1/inference-runs"):
        answer = seed.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["title"] == "Not Found"
    standin.assert_untouched()


def test_head_runs_get_without_a_body(seed: httpx.Client) -> None:
    answer = seed.head(runs())

    assert answer.status_code == 200
    assert answer.content == b""
    assert int(answer.headers["content-length"]) > 2


def test_upstream_down_is_502_then_recovers() -> None:
    standin = Standin()
    with (
        standin.server,
        serve_rest(
            SEED,
            base_uris={SEED_NAMESPACE: standin.url},
            environ={"LABEL_STUDIO_API_KEY": f"Token {STANDIN_TOKEN}"},
        ) as rest,
        rest.client() as client,
    ):
        assert client.get(runs()).status_code == 200
        standin.server.stop()

        down = client.get(runs())

        assert down.status_code == 502
        assert down.headers["content-type"] == "application/problem+json"
        problem = down.json()
        assert problem["operation"] == "label-studio-subpackage-prompts-subpackage-prompts-runs-rest.list"
        assert problem["upstream"] == f"{SEED_NAMESPACE}.list"
        assert "127.0.0.1" not in down.text and STANDIN_TOKEN not in down.text
        assert "Traceback" not in down.text

        standin.server.start()
        back = client.get(runs())
        assert back.status_code == 200
        assert [run["id"] for run in back.json()] == [1, 2, 3]


def test_upstream_refusing_the_capabilitys_credential_is_502_without_leaking_the_secret(
    standin: Standin,
) -> None:
    """The caller sent no credential; the capability's own was refused: that is the gateway's
    fault (502 naming the operation), not a 401 telling the caller to authenticate."""
    standin.reset()
    with (
        serve_rest(
            SEED,
            base_uris={SEED_NAMESPACE: standin.url},
            environ={"LABEL_STUDIO_API_KEY": "Token wrong-secret"},
        ) as rest,
        rest.client() as client,
    ):
        answer = client.get(runs())

    assert answer.status_code == 502
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == "urn:naftiko:problem:upstream-credentials-refused"
    assert problem["upstream"] == f"{SEED_NAMESPACE}.list"
    assert problem["upstream_status"] == 401
    assert "refused this capability's credentials" in problem["detail"]
    assert "www-authenticate" not in answer.headers
    assert "wrong-secret" not in answer.text
