"""The skill's directory over HTTP: listing, single files, the zip download, traversal attempts,
and where a ``location`` may point (absolute, relative, not there yet)."""

from __future__ import annotations

import io
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import (
    CAPABILITIES,
    GUIDE,
    OUTSIDE_SECRET,
    PUBLISHED,
    SkillServer,
    make_skill_dir,
    place_capability,
    serve_skill,
)

SKILL = "/skills/order-management"


@pytest.fixture(scope="module")
def orders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SkillServer]:
    directory = tmp_path_factory.mktemp("files")
    make_skill_dir(directory / "order-management")
    with serve_skill(place_capability(CAPABILITIES / "skill-capability.yaml", directory)) as server:
        yield server


@pytest.fixture
def client(orders: SkillServer) -> Iterator[httpx.Client]:
    with orders.client() as http:
        yield http


def raw_get(client: httpx.Client, target: str) -> httpx.Response:
    """GET with the request target sent exactly as written (httpx would remove ``..`` segments)."""
    return client.request("GET", "/", extensions={"target": target.encode()})


# -- listing ---------------------------------------------------------------------------------------


def test_contents_lists_published_files_sorted(client: httpx.Client) -> None:
    answer = client.get(f"{SKILL}/contents")
    assert answer.status_code == 200
    body = answer.json()
    assert body["name"] == "order-management"
    assert body["files"] == [
        {"path": path, "size": len(data), "type": kind}
        for (path, data), kind in zip(
            sorted(PUBLISHED.items()),
            [
                "text/markdown",  # SKILL.md
                "application/json",
                "application/yaml",
                "text/markdown",  # examples/advanced usage.md
                "text/markdown",  # guide-link.md (a link inside the directory)
                "image/png",
                "text/markdown",
                "application/octet-stream",  # raw.bin-data
            ],
            strict=True,
        )
    ]


def test_listing_leaves_out_hidden_files_and_links_out(client: httpx.Client) -> None:
    paths = [f["path"] for f in client.get(f"{SKILL}/contents").json()["files"]]
    for never in (".env", ".git/config", "escape.txt", "escape-dir/secret.txt", "dangling.md"):
        assert never not in paths
    assert client.get(f"{SKILL}/contents/").json()["files"] == client.get(f"{SKILL}/contents").json()["files"]


# -- single files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(PUBLISHED))
def test_every_listed_file_is_served_byte_for_byte(client: httpx.Client, path: str) -> None:
    answer = client.get(f"{SKILL}/contents/{path}")
    assert answer.status_code == 200
    assert answer.content == PUBLISHED[path]
    assert answer.headers["content-length"] == str(len(PUBLISHED[path]))
    assert answer.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("order-guide.md", "text/markdown; charset=utf-8"),
        ("data/limits.json", "application/json"),
        ("data/sample.yaml", "application/yaml"),
        ("logo.png", "image/png"),
        ("raw.bin-data", "application/octet-stream"),
        ("examples/advanced%20usage.md", "text/markdown; charset=utf-8"),
    ],
)
def test_media_type_by_extension(client: httpx.Client, path: str, content_type: str) -> None:
    assert client.get(f"{SKILL}/contents/{path}").headers["content-type"] == content_type


def test_head_and_range_on_a_file(client: httpx.Client) -> None:
    head = client.head(f"{SKILL}/contents/order-guide.md")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(GUIDE.encode()))
    part = client.get(f"{SKILL}/contents/order-guide.md", headers={"Range": "bytes=0-8"})
    assert part.status_code == 206 and part.content == GUIDE.encode()[:9]


@pytest.mark.parametrize(
    "path",
    ["missing.md", "data", "data/missing.json", ".env", ".git/config", "dangling.md"],
)
def test_missing_directories_hidden_and_dangling_are_404(client: httpx.Client, path: str) -> None:
    answer = client.get(f"{SKILL}/contents/{path}")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert "TOKEN=hidden" not in answer.text


# -- traversal: refused before anything is read ----------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        f"{SKILL}/contents/../../../../etc/passwd",
        f"{SKILL}/contents/examples/../../order-management-outside/secret.txt",
        f"{SKILL}/contents/./order-guide.md",
        f"{SKILL}/contents/%2e%2e/order-management-outside/secret.txt",
        f"{SKILL}/contents/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        f"{SKILL}/contents/..%2f..%2fetc%2fpasswd",
        f"{SKILL}/contents/examples/%2e%2e/%2e%2e/order-management-outside/secret.txt",
        f"{SKILL}/contents//etc/passwd",
        f"{SKILL}/contents/%2Fetc%2Fpasswd",
        f"{SKILL}/contents/..%5c..%5cetc%5cpasswd",
        f"{SKILL}/contents/order-guide.md%00.png",
        f"{SKILL}/contents/data//limits.json",
        f"{SKILL}/contents/data/",
        f"{SKILL}/contents/escape.txt",
        f"{SKILL}/contents/escape-dir/secret.txt",
    ],
)
def test_traversal_attempts_are_400(client: httpx.Client, target: str) -> None:
    answer = raw_get(client, target)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == "urn:naftiko:problem:unsafe-path"
    assert OUTSIDE_SECRET not in answer.text and "root:" not in answer.text


def test_encoded_dots_that_are_not_a_segment_are_just_names(client: httpx.Client) -> None:
    # "%2e%2e.md" is the file "...md": not a traversal, simply not there.
    assert raw_get(client, f"{SKILL}/contents/%2e%2e.md").status_code == 404
    assert raw_get(client, f"{SKILL}/contents/%252e%252e/x").status_code == 404


# -- download --------------------------------------------------------------------------------------


def test_download_is_a_zip_of_the_published_files(client: httpx.Client) -> None:
    answer = client.get(f"{SKILL}/download")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["content-disposition"] == 'attachment; filename="order-management.zip"'
    assert "content-length" not in answer.headers  # streamed
    assert answer.content[:2] == b"PK"
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        assert archive.testzip() is None
        assert sorted(archive.namelist()) == sorted(PUBLISHED)
        for name, data in PUBLISHED.items():
            assert archive.read(name) == data
    assert OUTSIDE_SECRET.encode() not in answer.content


def test_download_streams_large_files(tmp_path: Path) -> None:
    big = bytes(range(256)) * 4096 * 3  # 3 MiB, several chunks
    make_skill_dir(tmp_path / "order-management")
    (tmp_path / "order-management" / "big.bin").write_bytes(big)
    capability = place_capability(CAPABILITIES / "skill-capability.yaml", tmp_path)
    with serve_skill(capability) as server, server.client() as client:
        with client.stream("GET", f"{SKILL}/download") as answer:
            chunks = list(answer.iter_raw())
        assert len(chunks) > 1
        with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as archive:
            assert archive.read("big.bin") == big


def test_head_download_sends_no_archive(client: httpx.Client) -> None:
    head = client.head(f"{SKILL}/download")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == "application/zip"


# -- where a location may point ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "location",
    ["file:///./order-management", "./order-management", "order-management", "file://{abs}", "{abs}"],
)
def test_location_forms(tmp_path: Path, location: str) -> None:
    skill_dir = make_skill_dir(tmp_path / "order-management")
    text = (CAPABILITIES / "skill-capability.yaml").read_text()
    text = text.replace("file:///./order-management", location.format(abs=skill_dir))
    capability = tmp_path / "capability.yaml"
    capability.write_text(text)
    with serve_skill(capability) as server, server.client() as client:
        files = client.get(f"{SKILL}/contents").json()["files"]
        assert sorted(f["path"] for f in files) == sorted(PUBLISHED)


def test_missing_location_serves_the_catalog_then_the_directory_once_it_exists(tmp_path: Path) -> None:
    capability = place_capability(CAPABILITIES / "skill-capability.yaml", tmp_path)
    with serve_skill(capability) as server, server.client() as client:
        assert client.get("/skills").json()["count"] == 2
        detail = client.get(SKILL).json()
        assert "instructions" not in detail and len(detail["tools"]) == 2
        for path in ("contents", "contents/order-guide.md", "download"):
            answer = client.get(f"{SKILL}/{path}")
            assert answer.status_code == 404
            assert answer.json()["detail"] == (
                "the location directory of skill 'order-management' does not exist on this server"
            )
            assert str(tmp_path) not in answer.text  # no server paths in answers
        # Provisioned later: served without a restart.
        make_skill_dir(tmp_path / "order-management")
        assert client.get(f"{SKILL}/contents/order-guide.md").text == GUIDE
        assert client.get(SKILL).json()["instructions"] == "SKILL.md"
        shutil.rmtree(tmp_path / "order-management")
        assert client.get(f"{SKILL}/download").status_code == 404


def test_location_on_an_unsupported_scheme_is_a_404_with_the_reason(tmp_path: Path) -> None:
    text = (CAPABILITIES / "skill-capability.yaml").read_text()
    capability = tmp_path / "capability.yaml"
    capability.write_text(text.replace("file:///./order-management", "https://skills.example.com/om"))
    with serve_skill(capability) as server, server.client() as client:
        assert client.get("/skills").status_code == 200
        answer = client.get(f"{SKILL}/contents")
        assert answer.status_code == 404
        assert "not supported" in answer.json()["detail"]
