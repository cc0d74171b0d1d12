"""Authentication objects, for consumed APIs (credentials we send) and exposed adapters (we check)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import SpecModel


class AuthBasic(SpecModel):
    type: Literal["basic"] = "basic"
    username: str | None = None
    password: str | None = None


class AuthDigest(SpecModel):
    type: Literal["digest"] = "digest"
    username: str | None = None
    password: str | None = None


class AuthApiKey(SpecModel):
    type: Literal["apikey"] = "apikey"
    key: str | None = None
    value: str | None = None
    placement: Literal["header", "query"] = "header"


class AuthBearer(SpecModel):
    type: Literal["bearer"] = "bearer"
    token: str | None = None


class AuthOAuth2(SpecModel):
    """Server side: an MCP/REST resource server. Consumer side: the client-credentials grant.

    ``clientId``/``clientSecret``/``tokenEndpoint`` are what a consumer needs; they are a runtime
    extension of the published object (``validate --strict`` reports them).
    """

    type: Literal["oauth2"] = "oauth2"
    authorization_server_uri: str | None = None
    resource: str | None = None
    scopes: tuple[str, ...] = ()
    audience: str | None = None
    token_endpoint: str | None = None
    token_validation: str | None = None
    client_id: str | None = None
    client_secret: str | None = None


class AuthUnsupported(SpecModel):
    """A scheme this runtime does not implement (``oauth1``, ``aws-sig-v4``…): loaded with a warning."""

    type: Literal["unsupported"] = "unsupported"
    declared: str


Authentication = Annotated[
    AuthBasic | AuthDigest | AuthApiKey | AuthBearer | AuthOAuth2 | AuthUnsupported,
    Field(discriminator="type"),
]
