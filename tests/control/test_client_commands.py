"""``naftiko health|status|metrics|traces|logs|reload`` against a running ``naftiko serve``: what
they print and their exit codes, the control adapter found from the files in the directory."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from naftiko_runtime.cli import control_cmd
from tests.reload.support import NAFTIKO, Served, free_ports, get, shop
from tests.support.fixtures import upstream, upstream_server
from tests.support.servers import free_port
from tests.support.upstream import RecordingUpstream

__all__ = ["upstream", "upstream_server"]

TOKEN = "ctl-token-123"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, upstream_server: RecordingUpstream) -> Iterator[tuple]:
    directory = tmp_path_factory.mktemp("client") / "capabilities"
    directory.mkdir()
    ports = free_ports("rest", "mcp", "control")
    text = (
        shop(upstream_server.url, ports)
        .replace(
            "    - type: control\n",
            f'    - type: control\n      authentication: {{type: bearer, token: "{TOKEN}"}}\n',
        )
        .replace("management: {", "observability: {traces: {local: {buffer-size: 10}}}\n      management: {")
    )
    (directory / "shop.yaml").write_text(text, encoding="utf-8")
    with Served(directory) as server:
        yield server, directory, ports


def naftiko(
    *args: str, cwd: Path | None = None, token: str | None = TOKEN
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"NAFTIKO_CONTROL_TOKEN": token} if token else {})}
    if not token:
        env.pop("NAFTIKO_CONTROL_TOKEN", None)
    return subprocess.run([NAFTIKO, *args], capture_output=True, text=True, check=False, cwd=cwd, env=env)


def test_health_finds_the_control_adapter_from_the_files_in_the_current_directory(served: tuple) -> None:
    _, directory, ports = served
    result = naftiko("health", cwd=directory)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "UP"
    assert any("shop-rest" in line and str(ports["rest"]) in line and "started" in line for line in lines)


def test_status_metrics_and_logs_print_what_the_endpoints_answer(served: tuple) -> None:
    _, directory, ports = served
    url = f"http://localhost:{ports['control']}"
    get(f"http://127.0.0.1:{ports['rest']}/items/5")
    status = naftiko("status", "--url", url)
    assert status.returncode == 0 and status.stdout.startswith("Shop (spec 1.0.0-alpha2), up PT")
    metrics = naftiko("metrics", str(directory))
    assert metrics.returncode == 0 and 'adapter="rest:shop-rest"' in metrics.stdout
    set_level = naftiko("logs", "--url", url, "--set", "naftiko.reload=DEBUG")
    assert (set_level.returncode, set_level.stdout) == (0, "naftiko.reload: DEBUG\n")
    listing = naftiko("logs", "--url", url)
    assert any(line.split() == ["naftiko.reload", "DEBUG"] for line in listing.stdout.splitlines())
    bad = naftiko("logs", "--url", url, "--set", "naftiko=LOUD")
    assert bad.returncode == 1 and "LOUD" in bad.stderr


def test_traces_lists_and_a_missing_trace_exits_1(served: tuple) -> None:
    _, _, ports = served
    url = f"http://localhost:{ports['control']}"
    listing = naftiko("traces", "--url", url, "--json")
    assert listing.returncode == 0 and json.loads(listing.stdout)["bufferSize"] == 10
    missing = naftiko("traces", "--url", url, "--id", "f" * 32)
    assert missing.returncode == 1 and "no trace" in missing.stderr


def test_reload_prints_the_diff(served: tuple) -> None:
    _, directory, _ = served
    result = naftiko("reload", str(directory))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("reloaded: generation ")


def test_exit_codes_without_credentials_without_a_server_and_without_the_endpoint(
    served: tuple, tmp_path: Path
) -> None:
    _, _, ports = served
    url = f"http://localhost:{ports['control']}"
    refused = naftiko("status", "--url", url, token=None)
    assert refused.returncode == control_cmd.REFUSED and "--token" in refused.stderr
    unreachable = naftiko("health", "--url", f"http://127.0.0.1:{free_port()}")
    assert unreachable.returncode == control_cmd.UNREACHABLE and "cannot reach" in unreachable.stderr
    nothing = naftiko("health", cwd=tmp_path)
    assert nothing.returncode == control_cmd.UNAVAILABLE and "declares a control adapter" in nothing.stderr
    absent = naftiko("metrics", "--url", f"http://127.0.0.1:{ports['rest']}")
    assert absent.returncode == control_cmd.UNAVAILABLE and "enable observability.metrics" in absent.stderr
