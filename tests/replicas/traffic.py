"""A load generator for the replica tests: REST and MCP clients calling through the load balancer.

It runs in a background thread with its own event loop, so the test's main thread is free to
restart replicas meanwhile. Every call is checked (status, and the answer's content), and every
failure is kept with what the client saw: "zero failed requests" is asserted on these lists.

REST: ``workers`` httpx clients, each with its own kept-alive connection to nginx, GET
``/items/{n}``. MCP: one ``mcp`` SDK client per protocol era (the initialize handshake and the
sessionless 2026-07-28 revision), each calling ``get-item`` over and over on one session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from mcp import Client

MCP_MODES = ("legacy", "2026-07-28")


@dataclass
class Tally:
    ok: int = 0
    failures: list[str] = field(default_factory=list)


def tool_answer(result: Any) -> dict[str, Any]:
    """The JSON a ``tools/call`` result carries (structured, else its first text block)."""
    if result.structured_content:
        return dict(result.structured_content)
    text = next((block.text for block in result.content if getattr(block, "text", None)), "{}")
    try:
        value = json.loads(text)
    except ValueError:
        return {"text": text}
    return value if isinstance(value, dict) else {"value": value}


class Traffic:
    """REST and MCP calls through ``rest_url`` / ``mcp_url`` until :meth:`stop`."""

    def __init__(
        self,
        rest_url: str,
        mcp_url: str,
        *,
        rest_workers: int = 3,
        mcp_modes: Sequence[str] = MCP_MODES,
        pause: float = 0.002,
    ) -> None:
        self.rest_url = rest_url
        self.mcp_url = mcp_url
        self.rest_workers = rest_workers
        self.mcp_modes = tuple(mcp_modes)
        self.pause = pause
        self.rest = Tally()
        self.mcp = Tally()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="replica-traffic", daemon=True)
        self.error: BaseException | None = None

    def __enter__(self) -> Traffic:
        self._thread.start()
        if not self._started.wait(30):
            raise AssertionError("the load generator did not start")
        if self.error is not None:
            raise AssertionError(f"the load generator failed to start: {self.error!r}")
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)

    def summary(self) -> str:
        return (
            f"REST {self.rest.ok} ok, {len(self.rest.failures)} failed; "
            f"MCP {self.mcp.ok} ok, {len(self.mcp.failures)} failed"
        )

    # -- the thread -----------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by the test, not lost in a thread
            self.error = exc
            self._started.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with contextlib.AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(Client(self.mcp_url, mode=mode))  # type: ignore[arg-type]
                for mode in self.mcp_modes
            ]
            self._started.set()
            await asyncio.gather(
                *(self._rest_worker(n) for n in range(self.rest_workers)),
                *(
                    self._mcp_worker(client, mode)
                    for client, mode in zip(clients, self.mcp_modes, strict=True)
                ),
            )

    async def _rest_worker(self, worker: int) -> None:
        assert self._stop is not None
        n = 0
        async with httpx.AsyncClient(base_url=self.rest_url, timeout=30) as client:
            while not self._stop.is_set():
                n += 1
                item = f"r{worker}-{n}"
                try:
                    answer = await client.get(f"/items/{item}")
                    if answer.status_code == 200 and answer.json().get("id") == item:
                        self.rest.ok += 1
                    else:
                        self.rest.failures.append(
                            f"GET /items/{item}: {answer.status_code} {answer.text[:200]}"
                        )
                except (httpx.HTTPError, ValueError) as exc:
                    self.rest.failures.append(f"GET /items/{item}: {exc!r}")
                await asyncio.sleep(self.pause)

    async def _mcp_worker(self, client: Any, mode: str) -> None:
        assert self._stop is not None
        n = 0
        while not self._stop.is_set():
            n += 1
            item = f"m-{mode}-{n}"
            try:
                result = await client.call_tool("get-item", {"id": item})
                if not result.is_error and tool_answer(result).get("id") == item:
                    self.mcp.ok += 1
                else:
                    self.mcp.failures.append(f"{mode} get-item {item}: {result}")
            except Exception as exc:
                self.mcp.failures.append(f"{mode} get-item {item}: {exc!r}")
            await asyncio.sleep(self.pause)
