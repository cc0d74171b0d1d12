"""Live reload of a served directory: ``POST /config/reload``, ``SIGHUP`` and ``serve --watch``,
against a real ``naftiko serve`` process and a recording upstream."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.fixtures import upstream, upstream_server
from tests.support.upstream import RecordingUpstream

from .support import EXTRA, NAFTIKO, Served, free_ports, get, shop, tool_call, wait_until

__all__ = ["upstream", "upstream_server"]

NEW_ROUTE = """\
        - path: /items/{id}/reviews
          operations:
            - {method: GET, name: get-reviews, call: api.get-item, with: {id: shop-rest.id}}
"""
NEW_TOOL = """\
        - name: find-item
          description: Find an item
          inputParameters:
            - {name: id, type: string, required: true, description: the item}
          call: api.get-item
          with: {id: tools.id}
"""


@pytest.fixture
def ports() -> dict[str, int]:
    return free_ports("rest", "mcp", "control")


@pytest.fixture
def served(tmp_path: Path, upstream: RecordingUpstream, ports: dict[str, int]) -> Iterator[Served]:
    directory = tmp_path / "capabilities"
    directory.mkdir()
    (directory / "shop.yaml").write_text(shop(upstream.url, ports), encoding="utf-8")
    (directory / "shared").mkdir()
    (directory / "shared" / "secrets.yaml").write_text("api-token: not-a-capability\n", encoding="utf-8")
    with Served(directory) as server:
        yield server


def control_url(ports: dict[str, int]) -> str:
    return f"http://localhost:{ports['control']}"


def test_a_directory_with_non_capability_yaml_is_served_with_one_note_per_file(
    served: Served, ports: dict[str, int]
) -> None:
    assert get(f"http://127.0.0.1:{ports['rest']}/items/7").status_code == 200
    config = get(control_url(ports) + "/config").json()
    assert [item["file"].rsplit("/", 2)[-2:] for item in config["skipped"]] == [["shared", "secrets.yaml"]]
    stderr = served.stop()
    assert stderr.count("secrets.yaml: note: skipped, not a capability document") == 1


def test_reload_reports_the_diff_and_flags_what_breaks_clients(
    served: Served, upstream: RecordingUpstream, ports: dict[str, int]
) -> None:
    rest = f"http://127.0.0.1:{ports['rest']}"
    text = shop(upstream.url, ports, extra_routes=NEW_ROUTE, extra_tools=NEW_TOOL)
    # A required input added to an existing route, and the MCP tool's input type changed.
    text = text.replace(
        "- {method: GET, name: get-item, call: api.get-item, with: {id: shop-rest.id}}",
        "- method: GET\n              name: get-item\n              call: api.get-item\n"
        "              with: {id: shop-rest.id}\n              inputParameters:\n"
        "                - {name: store, in: query, type: string, required: true}",
    ).replace("{name: id, type: string, required", "{name: id, type: number, required", 1)
    (served.directory / "shop.yaml").write_text(text, encoding="utf-8")
    response = httpx.post(control_url(ports) + "/config/reload", timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    diff = body["diff"]
    assert body["generation"] == 2
    assert diff["capabilities"]["changed"] == [str(served.directory / "shop.yaml")]
    assert "rest:shop-rest GET /items/{id}/reviews" in diff["units"]["added"]
    assert "mcp:shop-mcp tool find-item" in diff["units"]["added"]
    assert "rest:shop-rest GET /items/{id}: new required input 'store'" in diff["breaking"]
    assert "mcp:shop-mcp tool get-item: input 'id' changed type from string to number" in diff["breaking"]
    assert get(f"{rest}/items/7/reviews").status_code == 200
    assert get(f"{rest}/items/7").status_code == 400  # the new required input is enforced at once
    # Taking the route away again is breaking too.
    (served.directory / "shop.yaml").write_text(shop(upstream.url, ports), encoding="utf-8")
    again = httpx.post(control_url(ports) + "/config/reload", timeout=30).json()
    assert "rest:shop-rest GET /items/{id}/reviews removed" in again["diff"]["breaking"]
    assert get(f"{rest}/items/7/reviews").status_code == 404


def test_a_broken_file_refuses_the_reload_with_located_problems_and_the_old_one_keeps_serving(
    served: Served, upstream: RecordingUpstream, ports: dict[str, int]
) -> None:
    rest = f"http://127.0.0.1:{ports['rest']}"
    broken = shop(upstream.url, ports).replace(
        "call: api.get-item, with: {id: shop-rest.id}", "call: nowhere.get-item"
    )
    (served.directory / "shop.yaml").write_text(broken, encoding="utf-8")
    response = httpx.post(control_url(ports) + "/config/reload", timeout=30)
    assert response.status_code == 422
    body = response.json()
    assert body["reloaded"] is False and body["generation"] == 1
    [problem] = [p for p in body["problems"] if "nowhere" in p["message"]]
    assert problem["file"].endswith("shop.yaml") and problem["line"] == 20
    assert get(f"{rest}/items/7").status_code == 200
    assert upstream.last.path == "/items/7"
    cli = subprocess.run(
        [NAFTIKO, "reload", "--url", control_url(ports)], capture_output=True, text=True, check=False
    )
    assert cli.returncode == 1
    assert "shop.yaml:20" in cli.stderr
    stderr = served.stop()
    assert "reload refused" in stderr and "shop.yaml:20" in stderr


def test_sighup_reloads_once(served: Served, upstream: RecordingUpstream, ports: dict[str, int]) -> None:
    (served.directory / "shop.yaml").write_text(
        shop(upstream.url, ports, extra_routes=NEW_ROUTE), encoding="utf-8"
    )
    served.hup()
    wait_until(lambda: get(f"http://127.0.0.1:{ports['rest']}/items/3/reviews").status_code == 200)
    assert get(control_url(ports) + "/config").json()["generation"] == 2


def test_adapters_start_stop_and_move_and_a_busy_port_fails_the_whole_reload(
    served: Served, upstream: RecordingUpstream, ports: dict[str, int]
) -> None:
    extra_port, moved_port = free_ports("extra", "moved").values()
    (served.directory / "extra.yaml").write_text(EXTRA.format(port=extra_port, word="hi"), encoding="utf-8")
    added = httpx.post(control_url(ports) + "/config/reload", timeout=30).json()
    assert added["diff"]["adapters"]["added"] == ["rest:extra-rest"]
    assert get(f"http://127.0.0.1:{extra_port}/hello").json() == "hi"
    ready = json.loads(served.ready.read_text())  # written again: where the new adapter listens
    assert {"type": "rest", "namespace": "extra-rest", "port": extra_port} in [
        {key: item[key] for key in ("type", "namespace", "port")} for item in ready["listeners"]
    ]

    blocker = socket.socket()
    blocker.bind(("127.0.0.1", moved_port))
    blocker.listen()
    try:
        (served.directory / "extra.yaml").write_text(
            EXTRA.format(port=moved_port, word="moved"), encoding="utf-8"
        )
        refused = httpx.post(control_url(ports) + "/config/reload", timeout=30)
        assert refused.status_code == 422
        assert f"cannot listen on 127.0.0.1:{moved_port}" in refused.text
        assert "address already in use" in refused.text
        assert get(f"http://127.0.0.1:{extra_port}/hello").json() == "hi"  # nothing changed
    finally:
        blocker.close()
    moved = httpx.post(control_url(ports) + "/config/reload", timeout=30).json()
    assert f"adapter rest:extra-rest moved to port {moved_port}" in moved["diff"]["breaking"]
    assert get(f"http://127.0.0.1:{moved_port}/hello").json() == "moved"
    wait_until(lambda: _refused(extra_port))

    (served.directory / "extra.yaml").unlink()
    removed = httpx.post(control_url(ports) + "/config/reload", timeout=30).json()
    assert removed["diff"]["capabilities"]["removed"] == [str(served.directory / "extra.yaml")]
    assert "adapter rest:extra-rest removed" in removed["diff"]["breaking"]
    wait_until(lambda: _refused(moved_port))
    ready = get(control_url(ports) + "/health/ready").json()
    assert sorted(a["namespace"] for a in ready["adapters"]) == ["shop-mcp", "shop-rest"]


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return True
    return False


def test_upstream_connections_of_an_unchanged_namespace_are_kept_across_a_reload(
    served: Served, upstream: RecordingUpstream, ports: dict[str, int]
) -> None:
    rest = f"http://127.0.0.1:{ports['rest']}"
    get(f"{rest}/items/1")
    before = upstream.last.client
    (served.directory / "shop.yaml").write_text(
        shop(upstream.url, ports, extra_routes=NEW_ROUTE), encoding="utf-8"
    )
    assert httpx.post(control_url(ports) + "/config/reload", timeout=30).status_code == 200
    get(f"{rest}/items/2/reviews")
    assert upstream.last.path == "/items/2"
    assert upstream.last.client == before  # the same TCP connection to the upstream


def test_put_scripting_changes_this_process_only_and_survives_a_reload(
    served: Served, ports: dict[str, int]
) -> None:
    url = control_url(ports)
    changed = httpx.put(url + "/scripting", json={"timeout": 1234, "enabled": False}, timeout=30)
    assert changed.status_code == 200, changed.text
    assert changed.json()["timeout"] == 1234 and changed.json()["scope"] == "process"
    assert "this process only" in changed.json()["note"]
    assert get(url + "/scripting").json()["timeout"] == 1234
    assert httpx.post(url + "/config/reload", timeout=30).status_code == 200
    assert get(url + "/scripting").json() == {
        **get(url + "/scripting").json(),
        "timeout": 1234,
        "enabled": False,
    }
    assert get(url + "/config").json()["scriptingOverrides"] == {"timeout": 1234, "enabled": False}


def test_watch_serves_added_changed_and_removed_files(tmp_path: Path, upstream: RecordingUpstream) -> None:
    ports = free_ports("rest", "mcp", "control")
    directory = tmp_path / "watched"
    directory.mkdir()
    (directory / "shop.yaml").write_text(shop(upstream.url, ports), encoding="utf-8")
    extra_port = free_ports("extra")["extra"]
    with Served(directory, "--watch") as served:
        (directory / ".extra.yaml.swp").write_text("junk: [", encoding="utf-8")  # an editor's: ignored
        (directory / "extra.yaml").write_text(EXTRA.format(port=extra_port, word="one"), encoding="utf-8")
        wait_until(lambda: get(f"http://127.0.0.1:{extra_port}/hello").json() == "one")
        (directory / "extra.yaml").write_text(EXTRA.format(port=extra_port, word="two"), encoding="utf-8")
        wait_until(lambda: get(f"http://127.0.0.1:{extra_port}/hello").json() == "two")
        (directory / "extra.yaml").write_text("naftiko: [broken", encoding="utf-8")
        wait_until(lambda: _last_reload(ports).get("ok") is False)
        [problem] = _last_reload(ports)["problems"]
        assert (
            problem["file"] == str(directory / "extra.yaml") and problem["line"] == 2
        )  # where the flow ends
        assert get(f"http://127.0.0.1:{extra_port}/hello").json() == "two"
        (directory / "extra.yaml").unlink()
        wait_until(lambda: _refused(extra_port))
        assert get(f"http://127.0.0.1:{ports['rest']}/items/1").status_code == 200
        assert tool_call(f"http://127.0.0.1:{ports['mcp']}", "get-item", {"id": "1"}).status_code == 200
        stderr = served.stop()
    assert ".extra.yaml.swp" not in stderr


def _last_reload(ports: dict[str, int]) -> dict:
    return get(control_url(ports) + "/config").json()["lastReload"] or {}


def test_watch_follows_a_configmap_update(tmp_path: Path, upstream: RecordingUpstream) -> None:
    """The kubelet updates a mounted ConfigMap by writing a new hidden directory and swapping the
    ``..data`` link to it; the visible files are links through ``..data`` and never change."""
    ports = free_ports("rest", "mcp", "control")
    mount = tmp_path / "capabilities"
    first = mount / "..2026_12_05_08_00_00.000000001"
    first.mkdir(parents=True)
    (first / "shop.yaml").write_text(shop(upstream.url, ports), encoding="utf-8")
    (mount / "..data").symlink_to(first.name)
    (mount / "shop.yaml").symlink_to(Path("..data") / "shop.yaml")
    with Served(mount, "--watch"):
        assert get(f"http://127.0.0.1:{ports['rest']}/items/1/reviews").status_code == 404
        second = mount / "..2026_12_05_08_01_00.000000002"
        second.mkdir()
        (second / "shop.yaml").write_text(shop(upstream.url, ports, extra_routes=NEW_ROUTE), encoding="utf-8")
        (mount / "..data_tmp").symlink_to(second.name)
        (mount / "..data_tmp").replace(mount / "..data")  # the kubelet's atomic swap
        wait_until(lambda: get(f"http://127.0.0.1:{ports['rest']}/items/1/reviews").status_code == 200)


def test_binds_are_resolved_again_and_their_source_file_is_watched(
    tmp_path: Path, upstream: RecordingUpstream
) -> None:
    """A bind source beside the capabilities (skipped as no capability) changes: the next
    upstream request carries the new secret, and the secret never shows in /config."""
    ports = free_ports("rest", "mcp", "control")
    directory = tmp_path / "watched"
    (directory / "shared").mkdir(parents=True)
    secrets = directory / "shared" / "secrets.yaml"
    secrets.write_text("api-token: first-s3cret\n", encoding="utf-8")
    text = (
        shop(upstream.url, ports)
        .replace(
            "capability:\n",
            f"binds:\n  - namespace: vault\n    location: {secrets.as_uri()}\n"
            "    keys: {API_TOKEN: api-token}\ncapability:\n",
            1,
        )
        .replace(
            "      resources:\n        - name: items",
            '      authentication: {type: bearer, token: "{{vault.API_TOKEN}}"}\n'
            "      resources:\n        - name: items",
            1,
        )
    )
    (directory / "shop.yaml").write_text(text, encoding="utf-8")
    rest = f"http://127.0.0.1:{ports['rest']}"
    with Served(directory, "--watch"):
        get(f"{rest}/items/1")
        assert upstream.last.headers["authorization"] == "Bearer first-s3cret"
        secrets.write_text("api-token: second-s3cret\n", encoding="utf-8")

        def rotated() -> bool:
            get(f"{rest}/items/2")
            return upstream.last.headers["authorization"] == "Bearer second-s3cret"

        wait_until(rotated)
        config = get(control_url(ports) + "/config").text
    assert "s3cret" not in config
