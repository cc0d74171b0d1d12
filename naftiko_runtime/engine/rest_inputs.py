"""Where a REST request carries each input of an operation's unit, decided once when the plan is built.

A REST operation's inputs come declared with ``in:`` or inferred from the consumed call; this places
every one of them in the HTTP request (path, query, header, cookie or body) and names it as the
request does. The result travels in the REST plan (:class:`~.plans.RestInput`), never in the
unit's :class:`~.contract.InputSpec`: an MCP tool or a skill sharing the unit has no HTTP request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..expressions.names import Spellings
from ..spec.models.base import whole_body
from .inference import InputDraft
from .plans import RestInput

_NO_BODY_METHODS = ("GET", "HEAD", "DELETE", "OPTIONS")


def locate_for_rest(inputs: Sequence[InputDraft], route: Sequence[str], method: str) -> list[InputDraft]:
    """Give every input a place in an HTTP request: the route wins, then the consumed location;
    what has none goes in the query of a method without a body (DELETE too), else in the body."""
    in_route = Spellings(route)
    located: list[InputDraft] = []
    placed: set[str] = set()
    for spec in inputs:
        placeholder = in_route.get(spec.name)
        if placeholder is not None:
            placed.add(placeholder)
            located.append(replace(spec, location="path", required=True))
        elif spec.location in ("query", "header", "cookie", "body"):
            located.append(spec)
        elif spec.location == "path" or method in _NO_BODY_METHODS:
            located.append(replace(spec, location="query"))
        else:
            located.append(replace(spec, location="body"))
    for name in in_route.names:
        if name not in placed:
            located.append(InputDraft(name, "string", True, None, "path"))
    # An inferred `body` that is the consumed operation's whole body is one member of the REST
    # request body when other inputs were placed in the body beside it.
    if whole_body((spec.name, spec.location) for spec in located) is None:
        located = [replace(spec, whole_body=False) if spec.whole_body else spec for spec in located]
    return located


def rest_inputs(located: Sequence[InputDraft], route: Sequence[str]) -> tuple[RestInput, ...]:
    """The REST placement of inputs :func:`locate_for_rest` placed: a path input is named as the
    route's placeholder spells it (``{prompt-id}`` for the input ``prompt_id``)."""
    in_route = Spellings(route)
    out: list[RestInput] = []
    for spec in located:
        location = spec.location or "query"
        wire = (in_route.get(spec.name) if location == "path" else None) or spec.name
        out.append(RestInput(spec.name, location, wire, spec.whole_body, spec.extract))
    return tuple(out)
