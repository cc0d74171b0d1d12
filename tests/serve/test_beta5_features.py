"""Ikanos 1.0.0-beta5's additions, served through ``naftiko serve`` for both spellings of the spec.

Binary content end to end: a consumed operation answering ``outputRawFormat: binary`` reaches a REST
client as its bytes with their media type (the document's ``outputMediaType`` or ``responseBinary``
first, else the upstream's), and an MCP client as image, audio or embedded-resource content by that
type; a dynamic resource declared ``binary`` reads as a blob; an answer larger than
``maxBinarySize`` is refused naming the operation and the limit, whether or not the upstream said
its length. Besides: ``info.version`` in the control adapter's ``/status`` and MCP
``serverInfo.version``; ``ttlMs``/``cacheScope`` on cacheable 2026-07-28 results; ``tags`` in the
OpenAPI document and the tools' ``_meta``. The alpha2 document is the beta5 one migrated.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from naftiko_runtime.exposes.mcp.tools import TAGS_META_KEY
from naftiko_runtime.migrate import migrate_text
from tests.conformance.framework import Rpc, Serve, body, dump, mcp_client
from tests.support.servers import ServerThread

pytestmark = pytest.mark.anyio

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
CLIP = b"ID3\x03\x00" + bytes(range(64))
REPORT = b"%PDF-1.7\n" + bytes(range(200))
BIG = bytes(range(256)) * 16  # 4 KiB, over the REST adapter's 2KiB
MODERN = "2026-07-28"
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"},
}

DOCUMENT = """\
ikanos: "1.0.0-beta5"
info:
  display: Files
  description: Photos, clips and reports
  version: "2.3.0"
capability:
  consumes:
    - type: http
      namespace: files
      baseUri: "{base}"
      resources:
        photos:
          path: /photos/{{{{id}}}}
          operations:
            get-photo:
              method: GET
              outputRawFormat: binary
              inputParameters:
                id: {{in: path}}
        clips:
          path: /clips/{{{{id}}}}
          operations:
            get-clip:
              method: GET
              outputRawFormat: binary
              outputMediaType: audio/mpeg
              inputParameters:
                id: {{in: path}}
        reports:
          path: /reports/{{{{id}}}}
          operations:
            get-report:
              method: GET
              outputRawFormat: binary
              inputParameters:
                id: {{in: path}}
        big:
          path: /big
          operations:
            get-big:
              method: GET
              outputRawFormat: binary
            get-big-allowed:
              method: GET
              outputRawFormat: binary
              maxBinarySize: 8KiB
        trickle:
          path: /trickle
          operations:
            get-trickle:
              method: GET
              outputRawFormat: binary
  exposes:
    - type: rest
      namespace: files-rest
      port: 1
      maxBinarySize: 2KiB
      resources:
        photos:
          path: /photos/{{id}}
          tags: [media]
          operations:
            photo:
              method: GET
              tags: [images]
              inputParameters:
                id: {{in: path, type: string, description: Photo id}}
              call: files.get-photo
              with:
                id: files-rest.id
        reports:
          path: /reports/{{id}}
          operations:
            report:
              method: GET
              inputParameters:
                id: {{in: path, type: string, description: Report id}}
              call: files.get-report
              with:
                id: files-rest.id
              responseBinary:
                mediaType: application/pdf
        big:
          path: /big
          operations:
            big:
              method: GET
              call: files.get-big
        big-allowed:
          path: /big-allowed
          operations:
            big-allowed:
              method: GET
              call: files.get-big-allowed
        trickle:
          path: /trickle
          operations:
            trickle:
              method: GET
              call: files.get-trickle
    - type: mcp
      namespace: files-mcp
      port: 2
      maxBinarySize: 1KiB
      ttlMs: 60000
      cacheScope: public
      tools:
        photo:
          description: A photo
          tags: [media, images]
          inputParameters:
            id: {{type: string, description: Photo id}}
          call: files.get-photo
          with:
            id: files-mcp.id
        clip:
          description: A clip
          inputParameters:
            id: {{type: string, description: Clip id}}
          call: files.get-clip
          with:
            id: files-mcp.id
        report:
          description: A report
          inputParameters:
            id: {{type: string, description: Report id}}
          call: files.get-report
          with:
            id: files-mcp.id
        big:
          description: Too big
          call: files.get-big
      resources:
        photo:
          display: Photo
          description: The photo of the day
          uri: files://photo-of-the-day
          binary: true
          call: files.get-photo
          with:
            id: "1"
    - type: control
      port: 3
      management:
        info: true
"""


class Files:
    """The upstream: bytes under their media types, one answer that does not say its length."""

    def __init__(self) -> None:
        self.paths: list[str] = []

        async def serve(request: Request) -> Response:
            self.paths.append(request.url.path)
            kind = request.path_params["kind"]
            if kind == "trickle":
                return StreamingResponse(_chunks(), media_type="application/octet-stream")
            body, media = {
                "photos": (PNG, "image/png"),
                "clips": (CLIP, "application/octet-stream"),
                "reports": (REPORT, "application/octet-stream"),
                "big": (BIG, "application/octet-stream"),
            }[kind]
            return Response(body, media_type=media)

        app = Starlette(routes=[Route("/{kind}", serve), Route("/{kind}/{id}", serve)])
        self.server = ServerThread(app)


async def _chunks() -> AsyncIterator[bytes]:
    for _ in range(4):
        yield bytes(1024)


@pytest.fixture(scope="module")
def files() -> Iterator[Files]:
    upstream = Files()
    upstream.server.start()
    try:
        yield upstream
    finally:
        upstream.server.stop()


@pytest.fixture(scope="module", params=["1.0.0-beta5", "1.0.0-alpha2"])
def served(
    request: pytest.FixtureRequest, files: Files, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Serve]:
    workdir = Path(tmp_path_factory.mktemp("files"))
    text = DOCUMENT.format(base=files.server.url)
    if request.param == "1.0.0-alpha2":
        text = migrate_text(text, "1.0.0-alpha2", base_dir=workdir).text
        assert text.startswith('naftiko: "1.0.0-alpha2"')
    path = workdir / "files.yml"
    path.write_text(text, encoding="utf-8")
    serve = Serve(path, workdir).start(timeout=60)
    serve.spelling = request.param  # type: ignore[attr-defined]
    try:
        yield serve
    finally:
        serve.stop()


# --- REST -----------------------------------------------------------------------------------------


def test_rest_answers_the_bytes_with_their_media_type(served: Serve) -> None:
    base = served.base("files-rest")
    photo = httpx.get(f"{base}/photos/7")
    assert photo.status_code == 200
    assert photo.content == PNG
    assert photo.headers["content-type"] == "image/png"  # the upstream's
    assert photo.headers["content-length"] == str(len(PNG))
    report = httpx.get(f"{base}/reports/9")
    assert report.content == REPORT
    assert report.headers["content-type"] == "application/pdf"  # the operation's responseBinary


def test_rest_refuses_an_answer_over_max_binary_size_naming_operation_and_limit(served: Serve) -> None:
    base = served.base("files-rest")
    for path in ("/big", "/trickle"):  # a declared length, and a chunked answer that says none
        answer = httpx.get(base + path)
        assert answer.status_code == 502, answer.text
        problem = answer.json()
        assert answer.headers["content-type"] == "application/problem+json"
        assert problem["type"].endswith("upstream-too-large")
        assert "maxBinarySize" in problem["detail"] and "2048 bytes" in problem["detail"]
        assert problem["upstream"].startswith("files.get-")
        assert problem["maxBinarySize"] == 2048
    allowed = httpx.get(f"{base}/big-allowed")  # the operation's own 8KiB wins over the adapter's
    assert allowed.status_code == 200 and allowed.content == BIG


def test_openapi_describes_binary_answers_and_tags(served: Serve) -> None:
    document = httpx.get(f"{served.base('files-rest')}/openapi.json").json()
    photo = document["paths"]["/photos/{id}"]["get"]
    assert photo["tags"] == ["photos", "media", "images"]
    assert photo["responses"]["200"]["content"] == {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
    }
    report = document["paths"]["/reports/{id}"]["get"]
    assert report["responses"]["200"]["content"] == {
        "application/pdf": {"schema": {"type": "string", "format": "binary"}}
    }


# --- MCP ------------------------------------------------------------------------------------------


async def test_mcp_maps_images_audio_and_other_bytes_as_the_spec_says(served: Serve) -> None:
    async with mcp_client(served.url("files-mcp")) as client:
        image = dump(await client.call_tool("photo", {"id": "7"}))
        clip = dump(await client.call_tool("clip", {"id": "3"}))
        report = dump(await client.call_tool("report", {"id": "9"}))
        big = dump(await client.call_tool("big", {}))
    assert image["isError"] is False
    assert image["content"] == [
        {"type": "image", "data": base64.b64encode(PNG).decode(), "mimeType": "image/png"}
    ]
    # The consumed operation's outputMediaType wins over the upstream's octet-stream.
    assert clip["content"] == [
        {"type": "audio", "data": base64.b64encode(CLIP).decode(), "mimeType": "audio/mpeg"}
    ]
    (embedded,) = report["content"]
    assert embedded["type"] == "resource"
    resource = embedded["resource"]
    assert resource["mimeType"] == "application/octet-stream"
    assert base64.b64decode(resource["blob"]) == REPORT
    assert resource["uri"].startswith("naftiko://transient/files-mcp/report/")
    assert big["isError"] is True
    assert "files.get-big" in big["content"][0]["text"] and "maxBinarySize" in big["content"][0]["text"]
    assert "1KiB = 1024 bytes" in big["content"][0]["text"]  # the MCP adapter's own cap


async def test_a_binary_resource_reads_as_a_blob(served: Serve) -> None:
    async with mcp_client(served.url("files-mcp")) as client:
        read = dump(await client.read_resource("files://photo-of-the-day"))
    (item,) = read["contents"]
    assert item["mimeType"] == "image/png"
    assert base64.b64decode(item["blob"]) == PNG


def _modern(url: str, method: str) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": {"_meta": ENVELOPE}}
    answer = httpx.post(
        url,
        content=json.dumps(body),
        headers={
            "accept": "application/json, text/event-stream",
            "content-type": "application/json",
            "mcp-protocol-version": MODERN,
            "mcp-method": method,
        },
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def test_cache_hints_tags_and_version_on_the_wire(served: Serve) -> None:
    url = served.url("files-mcp")
    listed = _modern(url, "tools/list")
    assert (listed["ttlMs"], listed["cacheScope"]) == (60000, "public")
    assert _modern(url, "resources/list")["ttlMs"] == 60000
    photo = next(tool for tool in listed["tools"] if tool["name"] == "photo")
    assert photo["_meta"] == {TAGS_META_KEY: ["media", "images"]}
    server_info = listed["_meta"]["io.modelcontextprotocol/serverInfo"]
    assert (server_info["name"], server_info["version"]) == ("files-mcp", "2.3.0")


def test_the_handshake_names_the_capability_version(served: Serve) -> None:
    with Rpc(served.url("files-mcp")) as rpc:
        result = body(rpc.initialize())["result"]
    assert result["serverInfo"] == {"name": "files-mcp", "version": "2.3.0", "title": "Files"}


def test_status_names_the_capability_version_and_its_spec(served: Serve) -> None:
    status = httpx.get(f"{served.base(type='control')}/status").json()
    assert status["capability"] == {
        "label": "Files",
        "specVersion": served.spelling,  # type: ignore[attr-defined]
        "version": "2.3.0",
    }
