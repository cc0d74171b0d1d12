"""``naftiko call`` as a user runs it: the installed console script, in a subprocess, with the seed
capability pointed at the Label Studio stand-in (a real server on a loopback port)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support.servers import ServerThread, free_port

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "capabilities" / "label-studio-runs.yaml"
NAFTIKO = Path(sys.executable).parent / "naftiko"
NS = "label-studio-subpackage-prompts-subpackage-prompts-runs"
TOKEN = "cli-test-token"


def load_standin() -> ModuleType:
    """Import ``examples/label_studio_standin.py`` by path (``examples/`` is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "label_studio_standin", REPO / "examples" / "label_studio_standin.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(sys.modules[spec.name])
    return sys.modules[spec.name]


standin = load_standin()


class Standin:
    def __init__(self, server: ServerThread, records: list[Any]) -> None:
        self.server = server
        self.records = records

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def label_studio() -> Iterator[Standin]:
    store = standin.Store.seeded()
    store.projects.add(5)  # the example creates a run on project 5: make sure it exists
    records: list[Any] = []
    with ServerThread(standin.create_app(TOKEN, recorder=records, store=store)) as server:
        yield Standin(server, records)


def naftiko(
    *args: str, api_key: str | None = f"Token {TOKEN}", timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LABEL_STUDIO_API_KEY"}
    if api_key is not None:
        env["LABEL_STUDIO_API_KEY"] = api_key
    return subprocess.run(
        [str(NAFTIKO), "call", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=timeout,
        check=False,
    )


def seed(label_studio: Standin, target: str, *arguments: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return naftiko(str(SEED), target, *arguments, "--base-uri", f"{NS}={label_studio.url}", **kw)


def test_the_console_script_is_installed() -> None:
    assert NAFTIKO.exists(), f"{NAFTIKO} missing: pip install -e . into this venv"


def test_get_inference_run_info_prints_the_runs(label_studio: Standin) -> None:
    done = seed(label_studio, "get-inference-run-info", "prompt_id=1", "version_id=1")
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)
    assert [run["id"] for run in runs[:3]] == [1, 2, 3]
    assert {run["status"] for run in runs[:3]} == {"Completed", "InProgress", "Pending"}
    request = label_studio.records[-1]
    assert (request.method, request.raw_path) == ("GET", "/api/prompts/1/versions/1/inference-runs")
    assert request.header("authorization") == f"Token {TOKEN}"
    assert TOKEN not in done.stdout + done.stderr


def test_query_filters_reach_the_stand_in(label_studio: Standin) -> None:
    done = seed(
        label_studio, "get-inference-run-info", "prompt_id=1", "version_id=1", "project=2", "ordering=-id"
    )
    assert done.returncode == 0, done.stderr
    assert [run["project"] for run in json.loads(done.stdout)] == [2]
    assert label_studio.records[-1].query_string == "ordering=-id&project=2"


def test_create_posts_the_json_body(label_studio: Standin) -> None:
    done = seed(label_studio, f"{NS}.create", "prompt_id=1", "version_id=1", 'body={"project": 5}')
    assert done.returncode == 0, done.stderr
    run = json.loads(done.stdout)
    assert (run["project"], run["status"], run["parent_model"]) == (5, "Pending", 1)
    request = label_studio.records[-1]
    assert (request.method, request.status) == ("POST", 201)
    assert request.json == {"project": 5}
    assert request.header("content-type") == "application/json"


def test_create_through_the_mcp_tool_name(label_studio: Standin) -> None:
    done = seed(label_studio, "run-prompt-inference", "prompt_id=1", "version_id=2", 'body={"project": 2}')
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["project"] == 2


def test_an_unknown_project_is_the_stand_ins_400(label_studio: Standin) -> None:
    done = seed(label_studio, f"{NS}.create", "prompt_id=1", "version_id=1", 'body={"project": 99}')
    assert done.returncode == 3
    assert "400" in done.stderr and f"{NS}.create" in done.stderr
    assert done.stdout == ""


def test_an_unknown_prompt_exits_3_naming_404(label_studio: Standin) -> None:
    done = seed(label_studio, "get-inference-run-info", "prompt_id=999", "version_id=1")
    assert done.returncode == 3
    assert "404" in done.stderr
    assert f"{NS}.list" in done.stderr
    assert "Not found" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_a_wrong_token_exits_3_naming_401_without_the_token(label_studio: Standin) -> None:
    done = seed(
        label_studio, "get-inference-run-info", "prompt_id=1", "version_id=1", api_key="Token wr0ng-t0ken"
    )
    assert done.returncode == 3
    assert "401" in done.stderr
    assert "wr0ng-t0ken" not in done.stderr + done.stdout


def test_an_unset_api_key_exits_2_naming_it(label_studio: Standin) -> None:
    before = len(label_studio.records)
    done = seed(label_studio, "get-inference-run-info", "prompt_id=1", "version_id=1", api_key=None)
    assert done.returncode == 2
    assert "LABEL_STUDIO_API_KEY" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(label_studio.records) == before  # nothing was sent


def test_a_bad_argument_exits_2_before_any_request(label_studio: Standin) -> None:
    before = len(label_studio.records)
    done = seed(label_studio, "get-inference-run-info", "prompt_id=abc", "version_id=1")
    assert done.returncode == 2
    assert "prompt_id" in done.stderr and "integer" in done.stderr
    assert len(label_studio.records) == before


def test_an_unknown_target_exits_2(label_studio: Standin) -> None:
    done = seed(label_studio, "no-such-tool")
    assert done.returncode == 2
    assert "no-such-tool" in done.stderr


def test_a_refused_connection_exits_3(label_studio: Standin) -> None:
    done = naftiko(
        str(SEED), "get-inference-run-info", "prompt_id=1", "version_id=1",
        "--base-uri", f"{NS}=http://127.0.0.1:{free_port()}",
    )  # fmt: skip
    assert done.returncode == 3
    assert "unreachable" in done.stderr and f"{NS}.list" in done.stderr


def test_a_read_timeout_exits_3(tmp_path: Path) -> None:
    import socket

    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        done = naftiko(
            str(SEED), "get-inference-run-info", "prompt_id=1", "version_id=1",
            "--base-uri", f"{NS}=http://127.0.0.1:{port}", "--read-timeout", "0.3",
        )  # fmt: skip
    assert done.returncode == 3
    assert "timed out" in done.stderr


def test_base_uri_with_a_base_path(label_studio: Standin) -> None:
    # The stand-in has no /prefix, so a kept base path shows up as its 404 for /prefix/api/...
    done = naftiko(
        str(SEED), "get-inference-run-info", "prompt_id=1", "version_id=1",
        "--base-uri", f"{NS}={label_studio.url}/prefix/",
    )  # fmt: skip
    assert done.returncode == 3
    assert label_studio.records[-1].raw_path == "/prefix/api/prompts/1/versions/1/inference-runs"


def test_a_bad_base_uri_option_exits_2() -> None:
    done = naftiko(str(SEED), "get-inference-run-info", "--base-uri", "nonsense")
    assert done.returncode == 2
    assert "--base-uri" in done.stderr
