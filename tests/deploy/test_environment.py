"""``naftiko serve`` configured by ``NAFTIKO_*`` variables, as a container is: flags win, bad values
are named, and the README's table lists every option with its variable."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from naftiko_runtime.cli import build_parser
from naftiko_runtime.cli.environment import environment_options, resolve, variable
from tests.replicas.cluster import echo_upstream, write_capability

REPO = Path(__file__).resolve().parents[2]
NAFTIKO = str(Path(sys.executable).with_name("naftiko"))


def serve_parser():  # the `serve` subcommand's parser
    return build_parser()._subparsers._group_actions[0].choices["serve"]  # type: ignore[union-attr]


def parsed(argv: list[str], environ: dict[str, str]):
    args = build_parser().parse_args(["serve", "x.yaml", *argv])
    resolve(args, environ)
    return args


def test_variables_fill_what_the_command_line_leaves_out() -> None:
    args = parsed(
        [],
        {
            "NAFTIKO_WORKERS": "2",
            "NAFTIKO_SHUTDOWN_TIMEOUT": "4.5",
            "NAFTIKO_DRAIN_DELAY": "5",
            "NAFTIKO_ANY_PORT": "yes",
            "NAFTIKO_LOG_FORMAT": "json",
            "NAFTIKO_BASE_URI": "a=http://a.example\n  b=https://b.example/v1",
            "NAFTIKO_READY_FILE": "/tmp/ready.json",
        },
    )
    assert (args.workers, args.shutdown_timeout, args.drain_delay) == (2, 4.5, 5.0)
    assert args.any_port is True and args.log_format == "json"
    assert args.base_uri == ["a=http://a.example", "b=https://b.example/v1"]
    assert args.ready_file == Path("/tmp/ready.json")


def test_flags_win() -> None:
    args = parsed(
        ["--workers", "3", "--log-format", "text", "--base-uri", "c=http://c.example", "--any-port"],
        {
            "NAFTIKO_WORKERS": "2",
            "NAFTIKO_LOG_FORMAT": "json",
            "NAFTIKO_BASE_URI": "a=http://a.example",
            "NAFTIKO_ANY_PORT": "0",
        },
    )
    assert (args.workers, args.log_format, args.base_uri, args.any_port) == (
        3,
        "text",
        ["c=http://c.example"],
        True,
    )


def test_defaults_without_variables() -> None:
    args = parsed([], {})
    assert (args.workers, args.shutdown_timeout, args.drain_delay, args.host) == (1, 10.0, 0.0, None)
    assert args.base_uri == [] and args.any_port is False and args.log_level == "info"


def run_serve(environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAFTIKO_")}
    return subprocess.run(
        [NAFTIKO, "serve", str(REPO / "capabilities")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, **environ},
    )


def test_a_bad_value_names_the_variable() -> None:
    for environ, message in (
        ({"NAFTIKO_WORKERS": "many"}, "error: NAFTIKO_WORKERS: expected an integer ≥ 1, got 'many'"),
        ({"NAFTIKO_WORKERS": "0"}, "error: NAFTIKO_WORKERS: expected an integer ≥ 1, got '0'"),
        ({"NAFTIKO_DRAIN_DELAY": "-1"}, "error: NAFTIKO_DRAIN_DELAY: expected a number of seconds ≥ 0"),
        ({"NAFTIKO_READ_TIMEOUT": "soon"}, "error: NAFTIKO_READ_TIMEOUT='soon': expected a number"),
        ({"NAFTIKO_LOG_LEVEL": "loud"}, "error: NAFTIKO_LOG_LEVEL='loud': expected one of debug, info"),
        ({"NAFTIKO_ANY_PORT": "maybe"}, "error: NAFTIKO_ANY_PORT='maybe': expected 1/true/yes/on"),
    ):
        result = run_serve(environ)
        assert result.returncode == 2, result.stderr
        assert message in result.stderr
        assert "Traceback" not in result.stderr


def test_the_readme_table_lists_every_serve_option() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(--[a-z-]+)[^`]*` \| `(NAFTIKO_[A-Z_]+)` \|", readme, re.MULTILINE))
    expected = {
        max(action.option_strings, key=len): variable(action)
        for action in environment_options(serve_parser())
    }
    assert rows == expected


def test_a_ready_file_that_cannot_be_written_is_an_error_line_and_serving_goes_on(tmp_path: Path) -> None:
    with echo_upstream() as upstream:
        capability = write_capability(tmp_path, upstream.url)
        log = tmp_path / "serve.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("NAFTIKO_")}
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [NAFTIKO, "serve", str(capability)],
                stdout=subprocess.DEVNULL,
                stderr=sink,
                env={
                    **env,
                    "NAFTIKO_ANY_PORT": "0",
                    "NAFTIKO_READY_FILE": str(tmp_path / "missing" / "ready.json"),
                },
            )
        try:
            deadline = time.monotonic() + 30
            while "cannot write the ready file" not in log.read_text():
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            assert httpx.get("http://127.0.0.1:9091/health/ready", timeout=5).status_code == 200
        finally:
            process.terminate()
            process.wait(30)
    text = log.read_text()
    assert "No such file or directory" in text and "Traceback" not in text
    assert process.returncode == 0
