"""The Ikanos 1.0.0-beta5 tutorial, steps 1–11, through ``naftiko serve``: the same answers and the same
upstream requests as its Naftiko 1.0.0-alpha2 twin.

The framework publishes the tutorial in both specs (``shared/conformance``). Each step's two
documents are served side by side, as published (imports, the ``shared/secrets.yaml`` bind and the
MCP bearer authentication included), with only their consumed base URIs pointed at the same
Shipyard stand-ins (``tests/support/shipyard.py``): the beta5 one by ``naftiko serve``, the alpha2
one in this process (``test_framework_tutorial.py`` serves it through ``naftiko serve`` and holds
what its answers are). Then every MCP tool is listed and called, every REST operation of the
OpenAPI document is called, and every skill is read, on both; the answers, and what the stand-ins
received for each call, must be identical.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.spec import load
from tests.support.servers import LOOPBACK, ServerThread
from tests.support.shipyard import Shipyard, shipyard

from .framework import ServeGroup, dump, mcp_client, requires_framework, secret, tutorial
from .framework.paths import CONFORMANCE
from .framework.serve import Listener
from .test_framework_tutorial import IMO, VOYAGE

pytestmark = [requires_framework, pytest.mark.anyio]
CONFORMANCE_SUITE = "10a-ikanos"

BETA5 = CONFORMANCE / "ikanos-1.0.0-beta5" / "modules" / "ikanos-docs" / "tutorial"
STEPS = sorted(p.name for p in BETA5.glob("step-*.yml")) if BETA5.is_dir() else []
# The value each input of the tutorial's units gets.
ARGUMENTS: dict[str, Any] = {
    "imo": IMO,
    "imo_number": IMO,
    "status": "active",
    "voyageId": "VOY-2026-042",
    **VOYAGE,
}
_PORT = re.compile(r"127\.0\.0\.1:\d+")


@pytest.fixture(scope="module")
def yard() -> Iterator[Shipyard]:
    with shipyard() as stand_ins:
        yield stand_ins


@dataclass
class InProcess:
    """An alpha2 twin served in this process, one ``ServerThread`` per adapter (each with a runtime
    of its own, whose upstream pools live on that server's loop), listed like ``naftiko serve``'s."""

    listeners: list[Listener] = field(default_factory=list)
    servers: list[ServerThread] = field(default_factory=list)

    def start(self, document: Path, base_uris: dict[str, str]) -> InProcess:
        capability = load(document).capability
        for expose in capability.exposes if capability else ():
            runtime = Runtime.build(load(document), RuntimeOptions(base_uris=base_uris, environ={}))
            server = ServerThread(runtime.asgi_app(expose.namespace)).start()
            self.servers.append(server)
            url = server.url + ("/mcp" if expose.type == "mcp" else "")
            self.listeners.append(Listener(expose.type, expose.namespace, LOOPBACK, server.port, url))
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


@pytest.fixture(scope="module")
def twins(yard: Shipyard, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Every beta5 step under ``naftiko serve`` (started together), and its alpha2 twin in process."""
    group = ServeGroup(Path(tmp_path_factory.mktemp("twins")))
    for name in STEPS:
        group.add(name, BETA5 / name, base_uris=yard.base_uris)
    group.start(timeout=90)
    alpha2 = {name: InProcess().start(tutorial(name), yard.base_uris) for name in STEPS}
    try:
        yield {"beta5": group, "alpha2": alpha2}
    finally:
        group.stop()
        for served in alpha2.values():
            served.stop()


def _arguments(schema: dict[str, Any]) -> dict[str, Any]:
    return {name: ARGUMENTS[name] for name in schema.get("properties", {}) if name in ARGUMENTS}


def _received(yard: Shipyard) -> list[dict[str, Any]]:
    """What the stand-ins received, in a stable order: independent steps of an orchestration run
    concurrently, so their requests arrive in either order."""
    seen = [r.describe() for r in (*yard.registry.requests, *yard.dockyard.requests)]
    return sorted(seen, key=lambda r: (r["method"], r["raw_path"], r["raw_query"], r["body"]))


async def _mcp(url: str, yard: Shipyard) -> dict[str, Any]:
    """tools/list, then every tool called once, with what the stand-ins received for each call."""
    out: dict[str, Any] = {}
    async with mcp_client(url, token=secret("mcp-server-token")) as client:
        tools = [dump(tool) for tool in (await client.list_tools()).tools]
        out["tools/list"] = tools
        for tool in tools:
            yard.clear()
            result = dump(await client.call_tool(tool["name"], _arguments(tool["inputSchema"])))
            out[tool["name"]] = {"result": result, "upstream": _received(yard)}
    return out


def _rest(base: str, yard: Shipyard) -> dict[str, Any]:
    """The OpenAPI document, then every operation called once."""
    spec = httpx.get(f"{base}/openapi.json").json()
    out: dict[str, Any] = {"openapi": _PORT.sub("HOST", str(spec))}
    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            params = {p["name"]: ARGUMENTS.get(p["name"], "x") for p in operation.get("parameters", [])}
            url = base + path.format(**{k: v for k, v in params.items() if "{" + k + "}" in path})
            query = {
                p["name"]: params[p["name"]] for p in operation.get("parameters", []) if p["in"] == "query"
            }
            body = VOYAGE if "requestBody" in operation else None
            yard.clear()
            answer = httpx.request(method.upper(), url, params=query, json=body)
            out[f"{method} {path}"] = {
                "status": answer.status_code,
                "body": answer.text,
                "upstream": _received(yard),
            }
    return out


def _skills(base: str) -> dict[str, Any]:
    listing = httpx.get(f"{base}/skills").json()
    details = {s["name"]: httpx.get(f"{base}/skills/{s['name']}").json() for s in listing["skills"]}
    return {"listing": _PORT.sub("HOST", str(listing)), "details": _PORT.sub("HOST", str(details))}


async def _everything(serve: Any, yard: Shipyard) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for listener in serve.listeners:
        if listener.type == "mcp":
            out[listener.namespace] = await _mcp(listener.url, yard)
        elif listener.type == "rest":
            out[listener.namespace] = _rest(listener.base, yard)
        elif listener.type == "skill":
            out[listener.namespace] = _skills(listener.base)
    return out


@pytest.mark.parametrize("name", STEPS or [pytest.param(None, marks=pytest.mark.skip(reason="no tutorial"))])
async def test_each_beta5_step_answers_as_its_alpha2_twin(
    name: str, twins: dict[str, Any], yard: Shipyard
) -> None:
    alpha2, beta5 = twins["alpha2"][name], twins["beta5"][name]
    assert sorted((item.type, item.namespace) for item in beta5.listeners) == sorted(
        (item.type, item.namespace) for item in alpha2.listeners
    )
    expected = await _everything(alpha2, yard)
    got = await _everything(beta5, yard)
    assert got == expected
    # The comparison is only worth something if the twins did call the stand-ins.
    calls = [entry for adapter in expected.values() for entry in adapter.values() if isinstance(entry, dict)]
    if name != "step-1-shipyard-mock.yml":
        assert any(entry.get("upstream") for entry in calls)


def test_all_eleven_steps_are_compared() -> None:
    assert len(STEPS) == 11
