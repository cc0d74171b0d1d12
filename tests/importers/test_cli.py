"""``naftiko import openapi`` as a user runs it: the console script in a subprocess.

``--check`` is proven against the Label Studio stand-in (examples/label_studio_standin.py): a
description of three of its GETs, two without required inputs; the check serves the result, calls
those two once through the MCP adapter and prints what each got.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from examples.label_studio_standin import Store, create_app
from tests.support.servers import ServerThread

from .serving import described

NAFTIKO = [sys.executable, "-c", "import sys; from naftiko_runtime.cli import main; sys.exit(main())"]
LABEL_STUDIO = Path(__file__).with_name("label-studio-runs.openapi.yaml")
TOKEN = "check-token"


def naftiko(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NAFTIKO, *args], capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )


def test_import_writes_a_strict_valid_capability_and_says_what_to_set(tmp_path: Path) -> None:
    out = tmp_path / "label-studio.yaml"
    done = naftiko("import", "openapi", str(LABEL_STUDIO), "-o", str(out))

    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"wrote {out}: 3 REST routes on port 8080, 3 MCP tools on port 9090",
        "set LABEL_STUDIO_API_KEY in the environment before serving",
        f"serve it with: naftiko serve {out}",
    ]
    assert out.read_text().startswith(
        f"# Imported by `naftiko import openapi` from {LABEL_STUDIO}.\nnaftiko: 1.0.0-alpha2\n"
    )
    checked = naftiko("validate", "--strict", str(out))
    assert checked.returncode == 0 and checked.stdout.splitlines()[0] == f"{out}: ok"


def test_without_output_the_capability_goes_to_stdout(tmp_path: Path) -> None:
    done = naftiko("import", "openapi", str(LABEL_STUDIO), "--expose", "mcp", "--namespace", "ls")
    assert done.returncode == 0, done.stderr
    document = yaml.safe_load(done.stdout)
    assert [e["type"] for e in document["capability"]["exposes"]] == ["mcp"]
    assert document["capability"]["consumes"][0]["namespace"] == "ls"


def test_warnings_are_located_and_strict_makes_them_errors(tmp_path: Path) -> None:
    source = described(
        tmp_path,
        {
            "openapi": "3.0.0",
            "info": {"title": "T", "version": "1"},
            "servers": [{"url": "https://t.example.com"}],
            "paths": {"/x": {"get": {"operationId": "x", "callbacks": {"c": {}}}}},
        },
    )
    done = naftiko("import", "openapi", str(source), "-o", str(tmp_path / "t.yaml"))
    assert done.returncode == 0
    assert (
        done.stderr.startswith(f"{source}: warning: ")
        and "warning: #/paths/~1x/get/callbacks/c: callback not imported" in done.stderr
    )
    assert "1 warning" in done.stderr

    strict = naftiko("import", "openapi", str(source), "-o", str(tmp_path / "s.yaml"), "--strict")
    assert strict.returncode == 1
    assert "error: #/paths/~1x/get/callbacks/c: callback not imported" in strict.stderr
    assert strict.stderr.splitlines()[-1] == "error: 1 construct not imported (--strict)"
    assert not (tmp_path / "s.yaml").exists()


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["nope.json"], 1, "error: nope.json: no such file"),
        ([str(LABEL_STUDIO), "--expose", "grpc"], 2, "error: expose 'grpc': choose from rest, mcp"),
        ([str(LABEL_STUDIO), "--rest-port", "0"], 2, "error: rest-port 0: expected a port number 1-65535"),
        (
            [str(LABEL_STUDIO), "--check", "ftp://x"],
            2,
            "error: --check 'ftp://x': expected an http(s) URL or 'env'",
        ),
        ([str(LABEL_STUDIO), "--include-tags", "nothing"], 1, "error: the selection matches none of the 3"),
    ],
)
def test_bad_input_is_one_clear_line_and_the_right_exit_status(
    args: list[str], status: int, message: str
) -> None:
    done = naftiko("import", "openapi", *args)
    assert done.returncode == status
    assert done.stderr.strip().splitlines()[-1].startswith(message)
    assert "Traceback" not in done.stderr


# -- --check ---------------------------------------------------------------------------------------

STANDIN_DESCRIPTION: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Label Studio", "version": "1"},
    "servers": [{"url": "https://app.humansignal.com"}],
    "security": [{"Token": []}],
    "components": {
        "securitySchemes": {
            "Token": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "x-fern-header": {"env": "LABEL_STUDIO_API_KEY", "prefix": "Token "},
            }
        }
    },
    "paths": {
        "/health": {"get": {"operationId": "health", "security": []}},
        "/api/projects": {
            "get": {
                "operationId": "listProjects",
                "parameters": [{"name": "page", "in": "query", "schema": {"type": "integer"}}],
            }
        },
        "/api/prompts/{prompt_id}/versions/{version_id}/inference-runs": {
            "get": {
                "operationId": "listRuns",
                "parameters": [
                    {"name": "prompt_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                    {"name": "version_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                ],
            }
        },
    },
}


@pytest.fixture
def standin() -> Iterator[tuple[ServerThread, list[Any]]]:
    records: list[Any] = []
    with ServerThread(create_app(TOKEN, recorder=records, store=Store.seeded())) as server:
        yield server, records


def test_check_serves_the_result_and_calls_every_get_without_required_inputs(
    tmp_path: Path, standin: tuple[ServerThread, list[Any]]
) -> None:
    server, records = standin
    source = described(tmp_path, STANDIN_DESCRIPTION)
    out = tmp_path / "ls.yaml"
    done = naftiko(
        "import",
        "openapi",
        str(source),
        "-o",
        str(out),
        "--check",
        server.url,
        env={"LABEL_STUDIO_API_KEY": TOKEN},
    )

    assert done.returncode == 1, done.stderr  # one of the two GETs is refused by the stand-in
    table = done.stdout.splitlines()
    assert table[0].split() == ["tool", "request", "result", "ms"]
    rows = {line.split()[0]: line for line in table[1:-1]}
    assert set(rows) == {"health", "list-projects"}
    assert rows["health"].split()[1:4] == ["GET", "/health", "ok"]
    assert "label-studio.list-projects answered HTTP 404: Not found." in rows["list-projects"]
    assert table[-1] == "1 of 2 ok"
    assert f"check: 2 GET operation(s) without required inputs, against {server.url}" in done.stderr
    assert sorted(r.path for r in records) == ["/api/projects", "/health"]
    assert all(r.header("authorization") == f"Token {TOKEN}" for r in records)


def test_check_needs_the_credentials_it_would_send(tmp_path: Path) -> None:
    source = described(tmp_path, STANDIN_DESCRIPTION)
    environment = {k: v for k, v in os.environ.items() if k != "LABEL_STUDIO_API_KEY"}
    done = subprocess.run(
        [*NAFTIKO, "import", "openapi", str(source), "-o", str(tmp_path / "ls.yaml"), "--check", "env"],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
    )
    assert done.returncode == 1
    assert "check: set LABEL_STUDIO_API_KEY in the environment first" in done.stderr
    assert (tmp_path / "ls.yaml").exists()  # the import itself succeeded


def test_check_with_rest_only_calls_the_routes(
    tmp_path: Path, standin: tuple[ServerThread, list[Any]]
) -> None:
    server, records = standin
    source = described(tmp_path, STANDIN_DESCRIPTION)
    done = naftiko(
        "import",
        "openapi",
        str(source),
        "--expose",
        "rest",
        "--check",
        server.url,
        env={"LABEL_STUDIO_API_KEY": TOKEN},
    )
    assert done.returncode == 1
    document = yaml.safe_load(done.stdout)  # the YAML on stdout, the table on stderr
    assert document["naftiko"] == "1.0.0-alpha2"
    rows = [line.split()[:5] for line in done.stderr.splitlines() if line.startswith(("health", "list-"))]
    assert rows == [
        ["health", "GET", "/health", "200", "OK"],
        ["list-projects", "GET", "/api/projects", "404", "Not"],
    ]
    assert json.dumps(sorted(r.path for r in records)) == '["/api/projects", "/health"]'


def test_to_beta5_writes_the_ikanos_spelling_and_it_serves(
    tmp_path: Path, standin: tuple[ServerThread, list[Any]]
) -> None:
    server, records = standin
    source = described(tmp_path, STANDIN_DESCRIPTION)
    out = tmp_path / "ls.yaml"
    done = naftiko(
        "import",
        "openapi",
        str(source),
        "-o",
        str(out),
        "--to",
        "1.0.0-beta5",
        "--check",
        server.url,
        env={"LABEL_STUDIO_API_KEY": TOKEN},
    )

    assert done.returncode == 1, done.stderr  # as above: the stand-in refuses one of the two GETs
    document = yaml.safe_load(out.read_text())
    assert document["ikanos"] == "1.0.0-beta5" and "naftiko" not in document
    mcp = next(e for e in document["capability"]["exposes"] if e["type"] == "mcp")
    assert isinstance(mcp["tools"], dict) and "list-projects" in mcp["tools"]
    checked = naftiko("validate", "--strict", str(out))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert done.stdout.splitlines()[-1] == "1 of 2 ok"
    assert sorted(r.path for r in records) == ["/api/projects", "/health"]


def test_to_refuses_a_version_it_cannot_write(tmp_path: Path) -> None:
    done = naftiko("import", "openapi", str(LABEL_STUDIO), "--to", "2.0")
    assert done.returncode == 2
    assert "--to: invalid choice: '2.0'" in done.stderr
