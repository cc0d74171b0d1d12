"""No description, however broken, gets a traceback: the import refuses it with a reason, or its
capability validates strict.

Real descriptions of the corpus, damaged at random (seeded, so a failure reproduces): values replaced
by wrong types, dangling or malformed ``$ref``, names that need escaping, keys removed or renamed.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from naftiko_runtime.importers import ImportFailed, openapi, to_yaml
from naftiko_runtime.spec import check_text

from . import documents

ODD: list[Any] = [
    None,
    5,
    -1.5,
    True,
    "",
    "x",
    "a b",
    "{x}",
    "/a/{b",
    "/{}",
    "é" * 70,
    "ftp://x",
    "http://[::1",
    [],
    {},
    [1, "a"],
    {"$ref": "#/nowhere"},
    {"$ref": 5},
    {"$ref": "#"},
    {"$ref": "#/paths"},
    {"$ref": "http://[::1/x"},
    {"type": 7},
    {"type": ["x"]},
    {"name": "", "in": "query"},
    {"name": "x", "in": "path"},
    {"name": "{{x}}", "in": "header"},
]
ROUNDS = 120


def _damage(node: Any, rng: random.Random) -> None:
    if isinstance(node, dict) and node:
        key = rng.choice(list(node))
        roll = rng.random()
        if roll < 0.3:
            node[key] = copy.deepcopy(rng.choice(ODD))
        elif roll < 0.4:
            del node[key]
        elif roll < 0.5 and isinstance(name := rng.choice(ODD), str):
            node[name] = node.pop(key)
        else:
            _damage(node[key], rng)
    elif isinstance(node, list) and node:
        index = rng.randrange(len(node))
        if rng.random() < 0.3:
            node[index] = copy.deepcopy(rng.choice(ODD))
        else:
            _damage(node[index], rng)


@pytest.fixture(scope="module")
def sources() -> list[Path]:
    try:
        found = [p for p in documents.oas_examples() if p.suffix == ".json"]
    except documents.Unavailable as exc:
        pytest.skip(f"n/a: {exc}")
    return found + [p for p in documents.conformance_descriptions() if p.suffix == ".json"]


def test_damaged_descriptions_are_refused_or_import_strict_valid(sources: list[Path], tmp_path: Path) -> None:
    rng = random.Random(11)
    imported = refused = 0
    for round_ in range(ROUNDS):
        source = rng.choice(sources)
        description = json.loads(source.read_text(encoding="utf-8"))
        for _ in range(rng.randint(1, 6)):
            _damage(description, rng)
        path = tmp_path / "damaged.json"
        path.write_text(json.dumps(description), encoding="utf-8")
        try:
            document, _ = openapi(str(path))
        except ImportFailed:
            refused += 1
            continue
        report = check_text(to_yaml(document), f"round-{round_}.yaml", strict=True)
        assert report.problems == [], (round_, source.name, [p.format() for p in report.problems[:3]])
        imported += 1
    assert imported > ROUNDS // 2 and refused > 0


SMALL: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Small", "version": "1", "description": "d"},
    "servers": [{"url": "https://{host}.example.com", "variables": {"host": {"default": "api"}}}],
    "tags": [{"name": "t", "description": "tag"}],
    "security": [{"key": []}],
    "paths": {
        "/items/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "post": {
                "operationId": "createItem",
                "summary": "s",
                "tags": ["t"],
                "parameters": [{"$ref": "#/components/parameters/Limit"}],
                "requestBody": {
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}
                },
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
                    }
                },
                "callbacks": {"c": {}},
                "security": [{"key": []}],
            },
        }
    },
    "components": {
        "parameters": {"Limit": {"name": "limit", "in": "query", "schema": {"type": "integer"}}},
        "schemas": {
            "Item": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "alt": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                    "all": {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}}}]},
                },
            }
        },
        "securitySchemes": {
            "key": {
                "type": "apiKey",
                "in": "header",
                "name": "X-Key",
                "x-fern-header": {"env": "SMALL_KEY", "prefix": "Key "},
            }
        },
    },
}


def _places(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key and index of ``node``, depth first."""
    found = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        found.append((*path, key))
        found += _places(value, (*path, key))
    return found


def test_every_place_of_a_description_holding_every_odd_value(tmp_path: Path) -> None:
    """Systematic where the test above is random: each place of a small description that uses every
    construct, given each odd value in turn."""
    path = tmp_path / "odd.json"
    validated: set[str] = set()  # many odd values give the same document: validate each once
    for place in _places(SMALL):
        for odd in ODD:
            description = copy.deepcopy(SMALL)
            holder = description
            for key in place[:-1]:
                holder = holder[key]
            holder[place[-1]] = copy.deepcopy(odd)
            path.write_text(json.dumps(description), encoding="utf-8")
            try:
                document, _ = openapi(str(path))
            except ImportFailed:
                continue
            text = to_yaml(document)
            if text not in validated:
                report = check_text(text, "odd.yaml", strict=True)
                assert report.problems == [], (place, odd, [p.format() for p in report.problems[:3]])
                validated.add(text)
