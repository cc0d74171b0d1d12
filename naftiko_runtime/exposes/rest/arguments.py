"""From an HTTP request to the unit's arguments dict, with everything that can be decided once, decided once.

A :class:`RequestReader` is compiled per route from where the route's request carries each input
(:class:`~naftiko_runtime.engine.plans.RestInput`, placed when the plan was built): which captured
path segment feeds which input, which query names, header names and cookie names to look for (each
input under every spelling :func:`~naftiko_runtime.expressions.names.spellings` expects), and what
to do with the body. A request then costs what it
uses: a GET with only path inputs never looks at headers, the query string or the body.

Values are passed on as the client sent them (strings, JSON values); the unit's coercion converts and
validates them and names every bad one. Checked here, what the unit cannot see:

* the body's size, media type and JSON syntax. A request body must be JSON: an operation declares no
  other request media type, so a form or ``text/plain`` body (what a browser sends cross-site
  without a preflight) is 415, never read;
* unknown arguments: every query parameter must be an input of the operation (or the adapter's own
  API-key parameter), and so must every member of a JSON object body whose fields are inputs; a body
  sent to an operation that takes none is refused. Headers and cookies are read by name only:
  browsers, proxies and tracers add their own, which are not arguments. A body taken whole (the
  ``body`` input) or read by JSONPath (``value: $.user.id``) is a document, not a list of arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, unquote_plus

import orjson
from starlette.types import Receive, Scope

from ...engine.coercion import unknown_problem
from ...engine.contract import InputSpec
from ...engine.plans import RestInput
from ...errors import InputProblem
from ...expressions import compile_path
from ...expressions.jsonpath import Path
from ...expressions.names import Spellings, spellings
from .problems import Problem, invalid_input, payload_too_large, unsupported_media_type


class Reject(Exception):
    """The request cannot reach the unit; ``problem`` is the answer."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem


class ClientGone(Exception):
    """The client disconnected while its body was being read."""


class RequestReader:
    """Reads one route's inputs from a request (see the module docstring)."""

    __slots__ = (
        "body_extracts",
        "body_fields",
        "body_members",
        "body_wholes",
        "cookies",
        "headers",
        "ignored_query",
        "inputs",
        "locations",
        "max_body",
        "names",
        "needs_body",
        "operation",
        "path_names",
        "query",
        "wanted_headers",
        "wire_names",
    )

    def __init__(
        self,
        inputs: Sequence[InputSpec],
        placed: Sequence[RestInput],
        route_names: Sequence[str],
        *,
        operation: str,
        max_body: int,
        ignored_query: frozenset[str] = frozenset(),
    ) -> None:
        """``inputs``: the unit's; ``placed``: where the request carries each (the route's plan);
        ``route_names``: the placeholders of the route's path, in the order its segments are captured."""
        self.operation = operation
        self.max_body = max_body
        self.inputs = tuple(inputs)
        self.names = Spellings(spec.name for spec in self.inputs)
        self.ignored_query = ignored_query  # the adapter's API key, read by its guard
        types = {spec.name: spec.type for spec in self.inputs}
        # Path: the n-th captured segment feeds the input its placeholder names.
        by_placeholder = {place.wire: place.name for place in placed if place.location == "path"}
        self.path_names = tuple(by_placeholder.get(name, name) for name in route_names)
        # How a problem names an input, and where: as the request carries it (`{prompt-id}`).
        self.wire_names = {place.name: place.wire for place in placed if place.wire != place.name}
        self.locations: dict[str, str] = {place.name: place.location for place in placed}
        query: dict[str, tuple[str, bool]] = {}
        headers: dict[bytes, str] = {}
        cookies: dict[str, str] = {}
        wholes: list[str] = []
        extracts: list[tuple[str, Path]] = []
        fields: list[tuple[str, tuple[str, ...]]] = []
        for place in placed:
            name, location = place.name, place.location
            if location == "query":
                for alias in spellings(place.wire):
                    query.setdefault(alias, (name, types.get(name) == "array"))
            elif location == "header":
                # As declared (the name /openapi.json publishes: `api_key`), and dashed (`api-key`).
                for alias in spellings(place.wire):
                    headers.setdefault(alias.lower().encode("latin-1"), name)
            elif location == "cookie":
                for alias in spellings(place.wire):
                    cookies.setdefault(alias, name)
            elif location == "body":
                if place.whole_body:
                    wholes.append(name)
                elif place.extract:
                    extracts.append((name, compile_path(place.extract)))
                else:
                    fields.append((name, spellings(place.wire)))
        self.query = query or None
        self.headers = headers or None
        self.cookies = cookies or None
        self.body_wholes = tuple(wholes)
        self.body_extracts = tuple(extracts)
        self.body_fields = tuple(fields)
        self.needs_body = bool(wholes or extracts or fields)
        # A JSON object body's members are arguments unless the body is taken whole or read by path.
        self.body_members = (
            None if wholes or extracts else frozenset(alias for _, aliases in fields for alias in aliases)
        )
        # Headers this route reads: its header inputs, and the body's framing (every route checks it).
        wanted = set(headers) | {b"content-type", b"content-length", b"transfer-encoding"}
        if cookies:
            wanted.add(b"cookie")
        self.wanted_headers = frozenset(wanted)

    async def read(self, scope: Scope, receive: Receive, values: Sequence[str]) -> dict[str, Any]:
        """The arguments of this request; raises :class:`Reject` or :class:`ClientGone`."""
        arguments: dict[str, Any] = {}
        for name, raw in zip(self.path_names, values, strict=False):
            arguments[name] = unquote(raw) if "%" in raw else raw
        query_string = scope.get("query_string")
        if query_string:
            self._read_query(query_string, arguments)
        found: dict[bytes, str] = {}
        wanted = self.wanted_headers
        for key, value in scope["headers"]:
            if key in wanted:
                if key not in found:
                    found[key] = value.decode("latin-1")
                elif key == b"cookie":  # HTTP/2 clients may split cookies over several headers
                    found[key] += "; " + value.decode("latin-1")
        if self.headers is not None:
            for key, name in self.headers.items():
                if key in found and name not in arguments:
                    arguments[name] = found[key]
        if self.cookies is not None and b"cookie" in found:
            self._read_cookies(found[b"cookie"], arguments)
        length = found.get(b"content-length")
        if b"transfer-encoding" in found or (length is not None and length.strip() not in ("", "0")):
            # The type of a body that is there (a bodiless POST's `octet-stream` describes nothing).
            media = found.get(b"content-type")
            if media is not None:
                media = media.partition(";")[0].strip().lower()
                if not _is_json(media):
                    raise Reject(unsupported_media_type(media, self.operation))
            await self._read_body(length, receive, arguments)
        return arguments

    def _read_query(self, query_string: bytes, arguments: dict[str, Any]) -> None:
        # Not parse_qsl: it decodes every pair; here only the names this route reads are decoded.
        query = self.query or {}
        unknown: list[str] = []
        for part in query_string.decode("utf-8", "replace").split("&"):
            if not part:
                continue
            key, _, value = part.partition("=")
            if "%" in key or "+" in key:
                key = unquote_plus(key)
            target = query.get(key)
            if target is None:
                if key not in self.ignored_query and key not in unknown:
                    unknown.append(key)
                continue
            if "%" in value or "+" in value:
                value = unquote_plus(value)
            name, is_array = target
            if is_array:
                existing = arguments.get(name)
                if isinstance(existing, list):
                    existing.append(value)
                else:
                    arguments[name] = _array(value)
            elif name not in arguments:
                arguments[name] = value  # the first value wins, as a form would have it
        if unknown:
            self._unknown(unknown, "query")

    def _unknown(self, names: Sequence[str], location: str) -> None:
        problems = [self._unknown_problem(name, location) for name in names]
        raise Reject(invalid_input(problems, self.operation))

    def _unknown_problem(self, name: str, location: str) -> InputProblem:
        """An input sent where this route does not read it is named as such, else as unknown."""
        meant = self.names.get(name)
        where = self.locations.get(meant) if meant is not None else None
        if where is not None and where != location:
            return InputProblem(
                name, f"not read from the {location}: this input is a {where} parameter", location
            )
        return unknown_problem(name, self.inputs, location)

    def _read_cookies(self, header: str, arguments: dict[str, Any]) -> None:
        cookies = self.cookies
        assert cookies is not None
        for pair in header.split(";"):
            key, sep, value = pair.strip().partition("=")
            name = cookies.get(key)
            if sep and name is not None and name not in arguments:
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                arguments[name] = unquote(value)

    async def _read_body(self, length: str | None, receive: Receive, arguments: dict[str, Any]) -> None:
        if length is not None and length.strip().isdigit() and int(length) > self.max_body:
            raise Reject(payload_too_large(self.max_body, self.operation))
        body = await read_body(receive, self.max_body, self.operation)
        if not body.strip():
            return
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            problem = InputProblem("body", f"malformed JSON: {exc}", "body")
            raise Reject(invalid_input([problem], self.operation)) from None
        if not self.needs_body:
            if isinstance(data, dict) and data:
                self._unknown(list(data), "body")
            if not isinstance(data, dict):
                problem = InputProblem("body", "this operation takes no request body", "body")
                raise Reject(invalid_input([problem], self.operation))
            return
        for name in self.body_wholes:
            arguments[name] = data
        for name, path in self.body_extracts:
            value = path.find(data)
            if value is not None and value != []:
                arguments.setdefault(name, value)
        if self.body_fields:
            if not isinstance(data, dict):
                problem = InputProblem("body", f"expected a JSON object, got {_kind(data)}", "body")
                raise Reject(invalid_input([problem], self.operation))
            for name, aliases in self.body_fields:
                for alias in aliases:
                    if alias in data:
                        arguments.setdefault(name, data[alias])
                        break
            members = self.body_members
            if members is not None:
                unknown = [key for key in data if key not in members]
                if unknown:
                    self._unknown(unknown, "body")


async def read_body(receive: Receive, limit: int, operation: str | None) -> bytes:
    """The whole request body, refusing it (413) as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise Reject(payload_too_large(limit, operation))
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _array(value: str) -> Any:
    """A query value for an array input: a JSON array as given, else a list to append repeats to."""
    if value[:1] == "[":
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            return [value]
        if isinstance(parsed, list):
            return parsed
    return [value]


def _is_json(media: str) -> bool:
    return media in ("application/json", "text/json") or media.endswith("+json")


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), "null" if value is None else type(value).__name__
    )
