"""Three ``naftiko serve`` replicas behind nginx (round robin) answer as one: an MCP client of every
protocol era initializes through one replica and its later calls land on the others; digest nonces
and OAuth 2 tokens verify on every replica. nginx's access log says which replica got each request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.support.oauth import AuthorizationServer
from tests.support.servers import ServerThread

from .cluster import Nginx, Replica, echo_upstream, write_capability
from .traffic import tool_answer

HANDSHAKE_ERAS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
RESOURCE = "https://replicas.example.com/mcp"


@pytest.fixture(scope="module")
def upstream() -> Iterator[ServerThread]:
    with echo_upstream() as server:
        yield server


@contextlib.contextmanager
def running(workdir: Path, capability: Path, env: dict[str, str] | None = None) -> Iterator[Any]:
    """Three replicas of ``capability`` behind nginx; yields ``(nginx, replicas)``."""
    replicas = [Replica(f"r{i}", capability, workdir, dict(env or {})).start() for i in range(3)]
    nginx = Nginx(workdir)
    try:
        for replica in replicas:
            replica.wait_ready()
        nginx.start(replicas)
        yield nginx, replicas
    finally:
        nginx.stop()
        for replica in replicas:
            replica.kill()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, upstream: ServerThread) -> Iterator[Any]:
    """One cluster for the protocol tests (each marks its requests, so they can share it)."""
    workdir = tmp_path_factory.mktemp("cluster")
    with running(workdir, write_capability(workdir, upstream.url)) as cluster:
        yield cluster


def mcp_addresses(replicas: list[Replica]) -> set[str]:
    return {replica.address("mcp") for replica in replicas}


def rpc(
    http: httpx.Client, url: str, version: str, method: str, params: dict[str, Any], ident: int | None
) -> Any:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
    if ident is not None:
        message["id"] = ident
    headers = {"Accept": "application/json, text/event-stream"}
    if version != "2024-11-05":  # the header came with 2025-03-26
        headers["MCP-Protocol-Version"] = version
    return http.post(url, json=message, headers=headers)


@pytest.mark.parametrize("version", HANDSHAKE_ERAS)
def test_a_handshake_on_one_replica_serves_calls_on_every_other(cluster, version: str) -> None:
    nginx, replicas = cluster
    with httpx.Client(timeout=10) as http:
        init = rpc(
            http,
            nginx.mcp_url,
            version,
            "initialize",
            {
                "protocolVersion": version,
                "capabilities": {},
                "clientInfo": {"name": f"era-{version}", "version": "1"},
            },
            1,
        )
        assert init.status_code == 200 and init.json()["result"]["protocolVersion"] == version
        assert "mcp-session-id" not in init.headers  # nothing to pin a client to a replica
        assert rpc(http, nginx.mcp_url, version, "notifications/initialized", {}, None).status_code == 202
        listed = rpc(http, nginx.mcp_url, version, "tools/list", {}, 2)
        assert {tool["name"] for tool in listed.json()["result"]["tools"]} == {"get-item", "wait"}
        for n in range(6):
            item = f"{version}-{n}"
            called = rpc(
                http,
                nginx.mcp_url,
                version,
                "tools/call",
                {"name": "get-item", "arguments": {"id": item}},
                10 + n,
            )
            result = called.json()["result"]
            assert called.status_code == 200 and result["isError"] is False
            assert json.loads(result["content"][0]["text"])["id"] == item
    handshake = nginx.logged(f"era-{version}", 1)[0]
    later = nginx.logged(f'"id":"{version}-', 6)
    assert len(later) == 6 and all(line["status"] == "200" for line in later)
    # The replica that answered initialize is not the only one the calls reach: all three do.
    assert {line["upstream"] for line in later} == mcp_addresses(replicas)
    assert handshake["upstream"] in mcp_addresses(replicas)


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_the_mcp_client_of_each_era_works_across_replicas(cluster, mode: str) -> None:
    nginx, replicas = cluster

    async def session() -> list[str]:
        async with Client(nginx.mcp_url, mode=mode) as client:  # type: ignore[arg-type]
            assert {tool.name for tool in (await client.list_tools()).tools} == {"get-item", "wait"}
            answers = []
            for n in range(6):
                result = await client.call_tool("get-item", {"id": f"{mode}-{n}"})
                assert result.is_error is False
                answers.append(tool_answer(result)["id"])
            return answers

    assert asyncio.run(session()) == [f"{mode}-{n}" for n in range(6)]
    calls = nginx.logged(f'"{mode}-', 6)
    assert len(calls) == 6 and {line["upstream"] for line in calls} == mcp_addresses(replicas)
    for replica in replicas:  # each replica's own access log shows MCP requests it answered
        deadline = time.monotonic() + 5  # access lines are written by a background thread
        while not any(line["path"] == "/mcp" and line["status"] == 200 for line in replica.access_lines()):
            assert time.monotonic() < deadline, replica.log()[-2000:]
            time.sleep(0.05)


DIGEST = '      authentication: {type: digest, username: "{{REST_USER}}", password: "{{REST_PASSWORD}}"}\n'


def test_a_digest_nonce_from_one_replica_verifies_on_the_others(
    tmp_path: Path, upstream: ServerThread
) -> None:
    capability = write_capability(
        tmp_path, upstream.url, rest_auth=DIGEST, secrets=["REST_USER", "REST_PASSWORD"]
    )
    with running(tmp_path, capability, {"REST_USER": "ops", "REST_PASSWORD": "s3cret-digest"}) as cluster:
        _digest_across(*cluster)


def _digest_across(nginx: Nginx, replicas: list[Replica]) -> None:
    auth = httpx.DigestAuth("ops", "s3cret-digest")
    with httpx.Client(base_url=nginx.rest_url, auth=auth, timeout=10) as client:
        answers = [client.get(f"/items/d{n}") for n in range(9)]
    assert [a.status_code for a in answers] == [200] * 9
    lines = nginx.logged("/items/d", 10)
    challenges = [line for line in lines if line["status"] == "401"]
    served = [line for line in lines if line["status"] == "200"]
    assert len(challenges) == 1  # one nonce, issued by one replica, accepted by all three
    assert {line["upstream"] for line in served} == {r.address("rest") for r in replicas}


@pytest.fixture(scope="module")
def issuer() -> Iterator[AuthorizationServer]:
    with AuthorizationServer(audience=RESOURCE, scope="tools") as server:
        yield server


def test_oauth2_tokens_verify_on_every_replica_each_caching_the_keys(
    tmp_path: Path, upstream: ServerThread, issuer: AuthorizationServer
) -> None:
    mcp_auth = (
        f"      authentication: {{type: oauth2, authorizationServerUri: {issuer.issuer}, "
        f"resource: {RESOURCE}, scopes: [tools]}}\n"
    )
    capability = write_capability(tmp_path, upstream.url, mcp_auth=mcp_auth)
    with running(tmp_path, capability) as (nginx, replicas):
        issuer.hits.clear()

        async def calls(rounds: int) -> list[bool]:
            async with httpx.AsyncClient(headers={"Authorization": f"Bearer {issuer.token()}"}) as http:
                transport = streamable_http_client(nginx.mcp_url, http_client=http)
                async with Client(transport, mode="2026-07-28") as client:
                    return [
                        (await client.call_tool("get-item", {"id": f"oauth-{n}"})).is_error is False
                        for n in range(rounds)
                    ]

        assert asyncio.run(calls(9)) == [True] * 9
        first = list(issuer.hits)
        assert asyncio.run(calls(9)) == [True] * 9
        refused = httpx.post(nginx.mcp_url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, timeout=10)
    # Every replica verified tokens: each fetched the keys once, then used its own cache.
    assert first.count("jwks") == 3 and issuer.hits == first
    assert refused.status_code == 401 and "resource_metadata" in refused.headers["www-authenticate"]
    calls_seen = nginx.logged("oauth-", 18)
    assert {line["upstream"] for line in calls_seen} == mcp_addresses(replicas)
