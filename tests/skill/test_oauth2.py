"""A skill catalog as an OAuth 2.1 resource server: the REST adapter's guard (tests/rest/test_oauth2.py
covers every refusal), in front of every route, with the metadata document served without credentials."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.oauth import AuthorizationServer

from .conftest import SkillServer, make_skill_dir, serve_skill

RESOURCE = "https://skills.example.com/catalog"
METADATA = "/.well-known/oauth-protected-resource/catalog"
CAPABILITY = """
naftiko: 1.0.0-alpha2
info: {label: Skill OAuth 2 test}
capability:
  exposes:
    - type: skill
      namespace: guarded-skills
      port: 8221
      authentication:
        type: oauth2
        authorizationServerUri: ISSUER
        resource: https://skills.example.com/catalog
        scopes: [skills:read]
      skills:
        - name: guide
          description: A skill with files
          location: file:///./guide
"""


@pytest.fixture(scope="module")
def issuer() -> Iterator[AuthorizationServer]:
    with AuthorizationServer(audience=RESOURCE, scope="skills:read") as authorization_server:
        yield authorization_server


@pytest.fixture(scope="module")
def skills(tmp_path_factory: pytest.TempPathFactory, issuer: AuthorizationServer) -> Iterator[SkillServer]:
    directory = tmp_path_factory.mktemp("skills-oauth2")
    make_skill_dir(directory / "guide")
    capability = Path(directory / "capability.yaml")
    capability.write_text(CAPABILITY.replace("ISSUER", issuer.issuer))
    with serve_skill(capability) as server:
        yield server


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_skill_catalog_with_oauth2(skills: SkillServer, issuer: AuthorizationServer) -> None:
    with skills.client() as client:
        for path in ("/skills", "/skills/guide/download", "/nowhere"):
            missing = client.get(path)
            assert missing.status_code == 401
            assert missing.headers["content-type"] == "application/problem+json"
            challenge = missing.headers["www-authenticate"]
            assert challenge.startswith("Bearer ") and "error=" not in challenge
            assert f'resource_metadata="https://skills.example.com{METADATA}"' in challenge

        expired = client.get("/skills", headers=bearer(issuer.token(exp=int(time.time()) - 3600)))
        assert expired.status_code == 401 and 'error="invalid_token"' in expired.headers["www-authenticate"]
        other = client.get("/skills", headers=bearer(issuer.token(aud="https://elsewhere.example.com")))
        assert other.status_code == 401
        scopeless = client.get("/skills", headers=bearer(issuer.token(scope="profile")))
        assert scopeless.status_code == 403
        assert 'error="insufficient_scope"' in scopeless.headers["www-authenticate"]

        token = bearer(issuer.token())
        assert client.get("/skills", headers=token).json()["count"] == 1
        assert client.get("/skills/guide/download", headers=token).content[:2] == b"PK"
        assert client.get("/nowhere", headers=token).status_code == 404

        document = client.get(METADATA)
        assert document.status_code == 200
        assert document.json() == {
            "resource": RESOURCE,
            "authorization_servers": [issuer.issuer],
            "bearer_methods_supported": ["header"],
            "scopes_supported": ["skills:read"],
        }
        assert client.get("/.well-known/oauth-protected-resource").json() == document.json()


def test_skill_guard_client_is_closed_at_shutdown(tmp_path: Path, issuer: AuthorizationServer) -> None:
    make_skill_dir(tmp_path / "guide")
    capability = tmp_path / "capability.yaml"
    capability.write_text(CAPABILITY.replace("ISSUER", issuer.issuer))
    with serve_skill(capability) as server:
        with httpx.Client(base_url=server.url) as client:
            assert client.get("/skills", headers=bearer(issuer.token())).status_code == 200
        guard = next(m.kwargs["guard"] for m in server.server.app.user_middleware if "guard" in m.kwargs)
        http = guard.server._client
        assert http is not None and not http.is_closed
    assert http.is_closed
