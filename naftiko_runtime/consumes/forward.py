"""Forwarding: pass a request through to a consumed namespace's base URI, streaming both ways.

A ``forward`` resource is a narrow proxy. What goes upstream is decided here, not by the caller:

* the URL is the target namespace's base URI + the remaining path + the caller's query string. The
  remaining path is re-encoded segment by segment and may not contain ``..`` or ``.`` in any
  spelling, so a caller cannot climb above the base (``/proxy/..%2F..%2Fadmin`` is refused);
* headers: only the ``trustedHeaders`` (case-insensitive), then the consumer's static header
  and cookie parameters (a consumer cookie joins the caller's trusted ``Cookie``, replacing one of
  the same name), then the consumer's own credentials (which replace any caller value of the same
  header). Hop-by-hop headers and ``Host`` never pass, trusted or not. A body travels with its entity
  headers (``Content-Type``, ``Content-Length``, ``Content-Encoding``), which describe the body, not
  the caller;
* the body is streamed as it arrives; the answer is a :class:`ForwardedResponse` whose chunks are
  read from the upstream as the caller consumes them. Its headers are the upstream's, less
  hop-by-hop ones and ``Date``, which the server writing the answer sets itself (one ``Date``).

Credentials that need a round trip (digest's challenge, OAuth2's token endpoint) cannot be applied to
a request whose body is still streaming in; for those the body is read first and the answer is
relayed once it is complete.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, unquote_plus

from multidict import CIMultiDict

from ..errors import NaftikoError
from ..expressions import MissingVariable
from ..spec.addresses import base_uri_problem
from ..spec.models import ConsumesHttp
from ..spec.variables import BindNames, bind_text
from ..urichars import PCHAR
from .auth import Authenticator, PreparedRequest, build_authenticator
from .encoding import cookie_header, encode_query
from .transport import HttpClient, UpstreamResponse

log = logging.getLogger("naftiko.forward")

# Never relayed in either direction (RFC 9110 §7.6.1), plus what the client library sets itself.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
    }
)
ENTITY_HEADERS = frozenset({"content-type", "content-length", "content-encoding"})


class PathEscape(ValueError):
    """The remaining path has a ``.`` or ``..`` segment: it would leave the base URI."""


@dataclass(slots=True)
class ForwardedResponse:
    """The upstream's answer: status, headers fit to relay, and the body as it arrives."""

    status: int
    headers: list[tuple[str, str]]
    chunks: AsyncIterator[bytes]
    _close: Any = None

    def close(self) -> None:
        """Release the upstream connection (when the body will not be read to its end)."""
        if self._close is not None:
            self._close()


def remaining_path(raw: str) -> str:
    """``raw`` (percent-encoded, as received) re-encoded per segment; :class:`PathEscape` if it climbs.

    A segment is decoded once, checked, and encoded again, so ``%2F`` inside a segment stays inside
    it, and ``..``, ``%2e%2E`` or ``..\\`` are refused wherever they occur.
    """
    if not raw:
        return ""
    out: list[str] = []
    for segment in raw.split("/"):
        decoded = unquote(segment, errors="surrogateescape") if "%" in segment else segment
        for piece in decoded.replace("\\", "/").split("/"):
            if piece in (".", ".."):
                raise PathEscape(raw)
        out.append(quote(decoded, safe=PCHAR, errors="surrogateescape"))
    return "/".join(out)


class Forwarder:
    """Forwards requests for one ``forward`` resource to its target namespace."""

    def __init__(
        self,
        *,
        operation: str,
        base_uri: str,
        trusted_headers: Iterable[str],
        client: HttpClient,
        binds: BindNames,
        consumes: ConsumesHttp | None = None,
        authenticator: Authenticator | None = None,
    ) -> None:
        self.operation = operation
        self.client = client
        self.base = _render_base(base_uri, binds).rstrip("/")
        reason = base_uri_problem(self.base, host=False)
        if reason:  # unshown: it may come from a bind
            raise NaftikoError(f"forward to {operation!r}: the base URI is {reason}")
        self.trusted = frozenset(h.strip().lower() for h in trusted_headers) - HOP_BY_HOP
        if authenticator is None:
            authentication = consumes.authentication if consumes is not None else None
            namespace = consumes.namespace if consumes is not None else operation
            authenticator = build_authenticator(authentication, binds, namespace)
        self.auth = authenticator
        # Digest and OAuth2 override ``send``: they need a full request they can send twice.
        self.round_trip = type(authenticator).send is not Authenticator.send
        self.static_headers, self.static_query, self.static_cookies = _static_params(consumes, binds)
        self._dropped_query = frozenset(self.auth.supplied_query) | {k for k, _ in self.static_query}

    def prepare(
        self, method: str, remaining: str, query: str, headers: Iterable[tuple[str, str]], has_body: bool
    ) -> PreparedRequest:
        """The upstream request, without its body (raises :class:`PathEscape`)."""
        path = remaining_path(remaining.lstrip("/"))
        url = f"{self.base}/{path}" if path else self.base
        out: dict[str, str] = {}
        lowered: dict[str, str] = {}
        accept_encoding = False
        for name, value in headers:
            key = name.lower()
            if key in self.trusted or (has_body and key in ENTITY_HEADERS):
                accept_encoding = accept_encoding or key == "accept-encoding"
                if key in lowered:
                    out[lowered[key]] += ", " + value
                else:
                    lowered[key] = name
                    out[name] = value
        if not accept_encoding:
            # Otherwise the client library asks for gzip and inflates it: wasted work on both ends.
            out["Accept-Encoding"] = "identity"
        request = PreparedRequest(self.operation, method, url, [], out, None)
        for name, value in self.static_headers:
            request.set_header(name, value)
        if self.static_cookies:
            caller = out.get(lowered.get("cookie", ""))
            request.set_header("Cookie", _with_cookies(caller, self.static_cookies))
        request.query = list(self.static_query)
        self.auth.apply(request, {})
        if request.query:
            kept = _without(query, self._dropped_query | {k for k, _ in request.query})
            query = "&".join(part for part in (kept, encode_query(request.query)) if part)
            request.query = []
        if query:
            request.url = f"{url}?{query}"
        return request

    async def send(
        self,
        method: str,
        remaining: str,
        query: str,
        headers: Iterable[tuple[str, str]],
        body: AsyncIterator[bytes] | None,
    ) -> ForwardedResponse:
        """Send the request; raises ``PathEscape``, ``UpstreamUnavailable`` or ``UpstreamTimeout``."""
        request = self.prepare(method, remaining, query, headers, body is not None)
        if self.round_trip:
            payload = b"".join([chunk async for chunk in body]) if body is not None else None
            request.body = payload
            buffered = await self.auth.send(self.client, request, {}, None)
            return _buffered(buffered)
        streamed = await self.client.stream(
            self.operation, request.method, request.url, request.headers, body, time_left=None
        )
        return ForwardedResponse(
            streamed.status, relay_headers(streamed.headers), streamed.chunks(), streamed.close
        )


def relay_headers(headers: CIMultiDict[str] | Mapping[str, str] | Any) -> list[tuple[str, str]]:
    """Upstream response headers fit to send back: no hop-by-hop ones; no stale length or encoding;
    no ``Date`` (the server that writes the answer adds its own, and an answer has one).

    The client library inflates compressed answers, so when the upstream sent ``Content-Encoding``
    the relayed body is the decoded one and neither that header nor ``Content-Length`` still holds.
    """
    items = list(headers.items())
    encoded = any(k.lower() == "content-encoding" and v.strip().lower() != "identity" for k, v in items)
    out = []
    for name, value in items:
        key = name.lower()
        if key in HOP_BY_HOP or key == "date" or (encoded and key in ("content-encoding", "content-length")):
            continue
        out.append((name, value))
    return out


def _buffered(response: UpstreamResponse) -> ForwardedResponse:
    async def once() -> AsyncIterator[bytes]:
        if response.body:
            yield response.body

    headers = [(k, v) for k, v in relay_headers(response.headers) if k.lower() != "content-length"]
    headers.append(("Content-Length", str(len(response.body))))
    return ForwardedResponse(response.status, headers, once())


def _render_base(base_uri: str, binds: BindNames) -> str:
    try:
        return bind_text(base_uri.strip(), binds)
    except MissingVariable:
        return base_uri.strip()


Pairs = tuple[tuple[str, str], ...]


def _static_params(consumes: ConsumesHttp | None, binds: BindNames) -> tuple[Pairs, Pairs, Pairs]:
    """The consumer-level header, query and cookie parameters with a fixed value (binds allowed)."""
    found: dict[str, list[tuple[str, str]]] = {"header": [], "query": [], "cookie": []}
    for param in consumes.input_parameters if consumes is not None else ():
        text = param.value if param.value is not None else param.template
        if text is None or param.in_ not in found:
            continue
        if not isinstance(text, str):
            text = str(text).lower() if isinstance(text, bool) else str(text)
        try:
            value = bind_text(text, binds)
        except MissingVariable:
            continue  # a value computed from a request's parameters: a forward has none
        if "\r" in value or "\n" in value:
            continue
        found[param.in_].append((param.name, value))
    return tuple(found["header"]), tuple(found["query"]), tuple(found["cookie"])


def _with_cookies(caller: str | None, own: Pairs) -> str:
    """The caller's ``Cookie`` value (when trusted) with the consumer's cookies set in it."""
    names = {name for name, _ in own}
    kept = [
        part.strip()
        for part in (caller or "").split(";")
        if part.strip() and part.partition("=")[0].strip() not in names
    ]
    return "; ".join([*kept, cookie_header(dict(own))])


def _without(query: str, names: Iterable[str]) -> str:
    """``query`` (raw) minus the pairs whose decoded name is in ``names``."""
    if not query:
        return ""
    dropped = set(names)
    return "&".join(p for p in query.split("&") if p and unquote_plus(p.partition("=")[0]) not in dropped)


__all__ = [
    "ENTITY_HEADERS",
    "HOP_BY_HOP",
    "ForwardedResponse",
    "Forwarder",
    "PathEscape",
    "relay_headers",
    "remaining_path",
]
