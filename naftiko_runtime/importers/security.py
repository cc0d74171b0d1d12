"""``securitySchemes`` → the consumed namespace's ``authentication``, with secrets from the environment.

Every secret comes from a bind variable read from the environment under a readable name
(``LABEL_STUDIO_API_KEY``, ``PETSTORE_TOKEN``); a Fern description's ``x-fern-header`` (``env``,
``prefix``) and ``x-fern-bearer`` (``env``) are honoured, since they say what the API's own SDKs read.

A namespace has one ``authentication``: the scheme most operations use. An operation that needs
another scheme sends it as its own parameters whose values are the bind variables (API keys in a
header, query or cookie, bearer tokens as an ``Authorization`` header), which the spec expresses
just as well. What the spec cannot express is said: OAuth 2 and OpenID Connect become a bearer token
the user obtains (the flow, token URL and scopes are named), mutual TLS and unknown schemes are not
carried, and basic credentials for a second scheme have no parameter form.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .description import ApiDescription, Operation, SecurityScheme
from .diagnostics import Diagnostics
from .naming import screaming

_VARIABLE_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


@dataclass
class Credential:
    """One scheme, made concrete: its bind variables and the ways a capability can send it."""

    scheme: SecurityScheme
    variables: list[str]
    authentication: dict[str, Any] | None  # the namespace form, when the spec has one
    parameter: dict[str, Any] | None  # the per-operation form: one consumed parameter
    sends: tuple[str, str]  # (location, lower-case name) it occupies


@dataclass
class SecurityPlan:
    authentication: dict[str, Any] | None = None
    variables: list[str] = field(default_factory=list)
    parameters: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # operation → extra params
    supplied: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # operation → what auth sends


def plan_security(
    api: ApiDescription, operations: list[Operation], prefix: str, diagnostics: Diagnostics
) -> SecurityPlan:
    """The authentication, bind variables and per-operation credential parameters of ``operations``."""
    used = [name for op in operations for req in _requirements(api, op) for name in req]
    credentials = _credentials(api, list(dict.fromkeys(used)), prefix, diagnostics)
    chosen = {op.where: _choice(api, op, credentials) for op in operations}
    usable = {name: c for name, c in credentials.items() if c is not None}  # every chosen name is
    plan = SecurityPlan()
    votes = Counter(name for names in chosen.values() for name in names if usable[name].authentication)
    main = usable[max(votes, key=votes.__getitem__)] if votes else None
    if main is not None:
        plan.authentication = main.authentication
        plan.variables += main.variables
    for op in operations:
        sent: set[tuple[str, str]] = {main.sends} if main is not None else set()
        extra: list[dict[str, Any]] = []
        for name in chosen[op.where]:
            credential = usable[name]
            if credential is main:
                continue
            if credential.parameter is None or credential.sends in sent:
                why = (
                    "it has no parameter form (only one basic or digest scheme fits a namespace)"
                    if credential.parameter is None
                    else f"the namespace's {main.scheme.name!r} already sends {credential.sends[1]!r}"
                    if main is not None
                    else "another scheme already sends it"
                )
                diagnostics.warn(
                    op.where,
                    f"security scheme {name!r} not sent by this operation: {why}",
                    "security-conflict",
                )
                continue
            extra.append(credential.parameter)
            sent.add(credential.sends)
            plan.variables += [v for v in credential.variables if v not in plan.variables]
        plan.parameters[op.where] = extra
        plan.supplied[op.where] = sent
    return plan


def _requirements(api: ApiDescription, op: Operation) -> list[dict[str, list[str]]]:
    return op.security if op.security is not None else api.security


def _choice(api: ApiDescription, op: Operation, credentials: dict[str, Credential | None]) -> list[str]:
    """The first alternative of the operation's requirements that the capability can send."""
    for requirement in _requirements(api, op):
        if requirement and all(credentials.get(name) is not None for name in requirement):
            return list(requirement)
    return []


def _credentials(
    api: ApiDescription, names: list[str], prefix: str, diagnostics: Diagnostics
) -> dict[str, Credential | None]:
    kinds = Counter(_kind(api.schemes[n]) for n in names if n in api.schemes)
    taken: set[str] = set()
    out: dict[str, Credential | None] = {}
    for name in names:
        scheme = api.schemes.get(name)
        if scheme is None:
            diagnostics.warn(
                "#/security", f"security requirement names no scheme {name!r}", "security-unknown"
            )
            out[name] = None
            continue
        out[name] = _credential(scheme, prefix, kinds[_kind(scheme)] > 1, taken, diagnostics)
    return out


def _kind(scheme: SecurityScheme) -> str:
    if scheme.type == "http":
        return f"http-{scheme.scheme}"
    return scheme.type


def _literal_prefix(prefix: Any, scheme: SecurityScheme, diagnostics: Diagnostics) -> str:
    """The text an SDK puts before the key, kept only when it stays literal in a template."""
    if prefix is None or prefix == "":
        return ""
    if isinstance(prefix, str) and prefix.isprintable() and not set(prefix) & set("{}"):
        return prefix
    diagnostics.warn(
        scheme.where,
        f"x-fern-header.prefix {str(prefix)[:40]!r} is not plain text; the key is sent without it",
        "credential-prefix",
    )
    return ""


def _credential(
    scheme: SecurityScheme, prefix: str, several: bool, taken: set[str], diagnostics: Diagnostics
) -> Credential | None:
    stem = f"{prefix}_{screaming(scheme.name)}" if several else prefix

    def variable(suffix: str, declared: Any = None) -> str:
        if isinstance(declared, str) and _VARIABLE_NAME.fullmatch(declared):
            name = declared
        else:
            name = stem if f"_{suffix}" in f"_{stem}_" else f"{stem}_{suffix}"
        base, number = name, 2
        while name in taken:
            name, number = f"{base}_{number}", number + 1
        taken.add(name)
        return name

    if scheme.type == "apiKey" and scheme.location in ("header", "query", "cookie") and scheme.parameter:
        fern = scheme.extensions.get("x-fern-header")
        fern = fern if isinstance(fern, dict) else {}
        var = variable("API_KEY", fern.get("env"))
        value = f"{_literal_prefix(fern.get('prefix'), scheme, diagnostics)}{{{{{var}}}}}"
        authentication = None
        if scheme.location in ("header", "query"):
            authentication = {
                "type": "apikey",
                "key": scheme.parameter,
                "value": value,
                "placement": scheme.location,
            }
        parameter = {"name": scheme.parameter, "in": scheme.location, "value": value}
        return Credential(
            scheme, [var], authentication, parameter, (scheme.location, scheme.parameter.lower())
        )
    if scheme.type == "http" and scheme.scheme == "bearer":
        fern = scheme.extensions.get("x-fern-bearer")
        var = variable("TOKEN", fern.get("env") if isinstance(fern, dict) else None)
        return _bearer(scheme, var)
    if scheme.type == "http" and scheme.scheme in ("basic", "digest"):
        user, password = variable("USERNAME"), variable("PASSWORD")
        authentication = {
            "type": scheme.scheme,
            "username": f"{{{{{user}}}}}",
            "password": f"{{{{{password}}}}}",
        }
        return Credential(scheme, [user, password], authentication, None, ("header", "authorization"))
    if scheme.type in ("oauth2", "openIdConnect"):
        var = variable("ACCESS_TOKEN")
        diagnostics.warn(scheme.where, _token_advice(scheme, var), "oauth2-token")
        return _bearer(scheme, var)
    what = f"http scheme {scheme.scheme!r}" if scheme.type == "http" else f"{scheme.type or 'untyped'} scheme"
    diagnostics.warn(
        scheme.where,
        f"security scheme {scheme.name!r} ({what}) not imported: the spec cannot "
        "express it; operations that need it are sent without it",
        "security-unsupported",
    )
    return None


def _bearer(scheme: SecurityScheme, var: str) -> Credential:
    token = f"{{{{{var}}}}}"
    parameter = {"name": "Authorization", "in": "header", "value": f"Bearer {token}"}
    return Credential(
        scheme, [var], {"type": "bearer", "token": token}, parameter, ("header", "authorization")
    )


def _token_advice(scheme: SecurityScheme, var: str) -> str:
    if scheme.type == "openIdConnect":
        return (
            f"OpenID Connect scheme {scheme.name!r}: the capability sends a bearer token read from {var}; "
            "obtain one from the provider's token endpoint (the spec has no client flow for consumed APIs)"
        )
    parts = []
    for flow, details in scheme.flows.items():
        details = details if isinstance(details, dict) else {}
        where = details.get("tokenUrl") or details.get("authorizationUrl")
        scopes = details.get("scopes")
        scopes = ", ".join(str(s) for s in scopes) if isinstance(scopes, (dict, list)) else ""
        parts.append(f"{flow}{f' at {where}' if where else ''}{f' (scopes: {scopes})' if scopes else ''}")
    flows = "; ".join(parts) or "its flows"
    return (
        f"OAuth 2 scheme {scheme.name!r}: the capability sends a bearer token read from {var}; obtain it "
        f"with {flows} (the spec has no OAuth client flow for consumed APIs)"
    )
