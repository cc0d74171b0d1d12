"""The command line: ``naftiko call`` renders the same classification (exit code, step, upstream,
retry guidance) as the adapters; ``--namespace-limits`` refuses what it does not know."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from naftiko_runtime.cli import build_parser
from naftiko_runtime.cli.environment import resolve
from naftiko_runtime.cli.options import limits_from
from tests.support.upstream import RecordingUpstream

from .conftest import CAPABILITY, TOKEN

NAFTIKO = str(Path(sys.executable).with_name("naftiko"))


def naftiko(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UP_TOKEN": TOKEN}
    return subprocess.run([NAFTIKO, *args], capture_output=True, text=True, env=env, timeout=60)


def test_call_names_the_redirect_and_exits_3(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/items/{id}", status=302, headers={"Location": "https://else.example/x"})
    done = naftiko("call", str(CAPABILITY), "tools.get-item", "item_id=7", "--base-uri", f"up={upstream.url}")
    assert done.returncode == 3
    assert "answered 302 to https://else.example; redirects are not followed" in done.stderr
    assert "Traceback" not in done.stderr


def test_call_says_when_to_retry(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/items/{id}", status=429, json={"detail": "slow"}, headers={"Retry-After": "7"})
    done = naftiko("call", str(CAPABILITY), "tools.get-item", "item_id=7", "--base-uri", f"up={upstream.url}")
    assert done.returncode == 3
    assert "answered 429: slow (retry after 7 s)" in done.stderr


def test_call_names_the_failed_step(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/items/{id}", json={"owner": 3})
    upstream.route("GET", "/owners/{id}", status=404, json={"detail": "gone"})
    done = naftiko(
        "call", str(CAPABILITY), "tools.get-item-owner", "item_id=7", "--base-uri", f"up={upstream.url}"
    )
    assert done.returncode == 3
    assert "step 'owner' failed: upstream up.get-owner answered 404: gone" in done.stderr


def test_an_unknown_namespace_limit_key_is_refused_by_name() -> None:
    done = naftiko("serve", str(CAPABILITY), "--any-port", "--namespace-limits", "up:cache-tll=5")
    assert done.returncode == 2
    assert "unknown setting 'cache-tll'" in done.stderr
    assert "cache-ttl" in done.stderr  # the known keys are listed


def test_namespace_limits_for_a_namespace_nobody_consumes_are_refused() -> None:
    done = naftiko("serve", str(CAPABILITY), "--any-port", "--namespace-limits", "upp:cache-ttl=5")
    assert done.returncode == 2
    assert "--namespace-limits names no consumed namespace 'upp' (consumed namespaces: up)" in done.stderr


def test_a_bad_size_is_refused_by_name() -> None:
    done = naftiko("serve", str(CAPABILITY), "--any-port", "--max-upstream-body", "lots")
    assert done.returncode == 2
    assert "--max-upstream-body" in done.stderr and "32MiB" in done.stderr


def test_max_upstream_body_0_means_no_limit_from_the_flag_and_from_the_environment() -> None:
    # "0" used to parse to None, which the environment layer reads as "not given": 32 MiB again.
    for argv, environ in ((["--max-upstream-body", "0"], {}), ([], {"NAFTIKO_MAX_UPSTREAM_BODY": "off"})):
        args = build_parser().parse_args(["serve", "x.yaml", *argv])
        resolve(args, environ)
        assert limits_from(args)[0].max_body is None, (argv, environ)
    args = build_parser().parse_args(["serve", "x.yaml", "--max-upstream-body", "1MiB"])
    resolve(args, {"NAFTIKO_MAX_UPSTREAM_BODY": "0"})
    assert limits_from(args)[0].max_body == 1 << 20  # the flag wins
