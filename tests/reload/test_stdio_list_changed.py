"""``naftiko serve --stdio FILE --watch``: a changed file is served at once and the client is told
(``notifications/tools/list_changed``, declared with ``listChanged: true``); a broken one is not."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

from .support import NAFTIKO

TOOL = """\
        - name: {name}
          description: Say {word}
          outputParameters:
            - {{type: string, value: "{word}"}}
"""
DOCUMENT = """\
naftiko: 1.0.0-alpha2
info: {{label: Stdio}}
capability:
  exposes:
    - type: mcp
      namespace: words
      transport: stdio
      tools:
{tools}"""


def document(*tools: tuple[str, str]) -> str:
    return DOCUMENT.format(tools="".join(TOOL.format(name=name, word=word) for name, word in tools))


class StdioClient:
    def __init__(self, path: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [NAFTIKO, "serve", "--stdio", str(path), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ},
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.log: queue.Queue[str] = queue.Queue()  # stderr, line by line, as the server writes it
        self.logged: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.log_reader = threading.Thread(target=self._read_log, daemon=True)
        self.log_reader.start()
        self.next_id = 0

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(json.loads(line))

    def _read_log(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.put(line.decode())

    def wait_for_log(self, text: str, timeout: float = 10) -> None:
        """Block until the server logs a line containing ``text``."""
        while not any(text in line for line in self.logged):
            self.logged.append(self.log.get(timeout=timeout))

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}})
        while True:
            message = self.lines.get(timeout=10)
            if message.get("id") == self.next_id:
                return message

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()

    def notification(self, timeout: float = 10) -> dict[str, Any]:
        message = self.lines.get(timeout=timeout)
        assert "id" not in message, message
        return message

    def close(self) -> str:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)
        self.log_reader.join(timeout=10)  # it ends at the end of stderr
        while not self.log.empty():
            self.logged.append(self.log.get_nowait())
        return "".join(self.logged)


def tool_names(client: StdioClient) -> list[str]:
    return [tool["name"] for tool in client.request("tools/list")["result"]["tools"]]


def test_a_changed_file_is_announced_with_tools_list_changed(tmp_path: Path) -> None:
    path = tmp_path / "words.yaml"
    path.write_text(document(("hello", "hi")), encoding="utf-8")
    client = StdioClient(path, "--watch")
    try:
        init = client.request(
            "initialize",
            {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "0"},
            },
        )
        assert init["result"]["capabilities"]["tools"] == {"listChanged": True}
        client.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert tool_names(client) == ["hello"]
        path.write_text(document(("hello", "hi"), ("bye", "ciao")), encoding="utf-8")
        assert client.notification() == {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}
        assert tool_names(client) == ["hello", "bye"]
        path.write_text(
            "naftiko: 1.0.0-alpha2\ncapability: {exposes: [{type: mcp, port: 70000}]}\n", encoding="utf-8"
        )
        client.process.send_signal(signal.SIGHUP)  # the broken file: refused, nothing announced
        client.wait_for_log("reload refused")  # before the next write, which would be read instead
        path.write_text(document(("bye", "ciao")), encoding="utf-8")
        assert client.notification() == {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}
        assert tool_names(client) == ["bye"]
        call = client.request("tools/call", {"name": "bye", "arguments": {}})
        assert call["result"]["content"][0]["text"] == '"ciao"'
    finally:
        stderr = client.close()
    assert "reload refused" in stderr


def test_without_watch_sighup_reloads(tmp_path: Path) -> None:
    path = tmp_path / "words.yaml"
    path.write_text(document(("hello", "hi")), encoding="utf-8")
    client = StdioClient(path)
    try:
        assert tool_names(client) == ["hello"]
        path.write_text(document(("hello", "hello there")), encoding="utf-8")
        client.process.send_signal(signal.SIGHUP)
        assert client.notification() == {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}
        call = client.request("tools/call", {"name": "hello", "arguments": {}})
        assert call["result"]["content"][0]["text"] == '"hello there"'
    finally:
        client.close()
