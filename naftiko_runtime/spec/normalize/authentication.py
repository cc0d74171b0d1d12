"""`authentication` blocks for the tolerant reader, on consumed APIs and adapters alike.

Types and keys have many spellings in real files (`apiKey`, `api-key`, `header`; `name` or
`header` for the key, `in` for its placement). Each is read as the spec's; a type this runtime
cannot send is kept as ``unsupported`` with a warning, so requests go without it knowingly.
"""

from __future__ import annotations

from typing import Any

from ..source import DocPath
from .rewriter import Rewriter
from .vocabulary import AUTH_TYPES


def rewrite_authentication(rw: Rewriter, owner: dict[str, Any], path: DocPath) -> None:
    """The `authentication` of a consumed API or an adapter, in the spec's names and shape."""
    auth = owner.get("authentication")
    if auth is None:
        owner.pop("authentication", None)
        return
    apath = (*path, "authentication")
    if not isinstance(auth, dict):
        rw.warn(apath, "`authentication` must be a mapping; ignored", rule="type")
        owner.pop("authentication")
        return
    declared = str(auth.get("type", "")).strip()
    canonical = AUTH_TYPES.get(declared.lower())
    if canonical is None:
        rw.warn(
            (*apath, "type"),
            f"authentication type {declared!r} is not supported by this "
            "runtime; requests are sent without it",
            rule="unsupported-auth",
        )
        owner["authentication"] = {"type": "unsupported", "declared": declared or "(none)"}
        return
    if canonical != declared:
        rw.dialect("auth-type-alias", (*apath, "type"))
    auth["type"] = canonical
    if canonical == "apikey":
        if "key" not in auth:
            for alias in ("name", "header"):
                if alias in auth:
                    rw.rename(auth, apath, alias, "key")
                    break
        if "placement" not in auth and "in" in auth:
            rw.rename(auth, apath, "in", "placement")
        if "placement" not in auth:
            auth["placement"] = "header"
        elif isinstance(auth["placement"], str):
            auth["placement"] = auth["placement"].lower()
    if canonical == "oauth2" and isinstance(auth.get("scopes"), str):
        auth["scopes"] = auth["scopes"].split()
    for key in ("username", "password", "token", "value", "key"):
        if key in auth and auth[key] is not None and not isinstance(auth[key], str):
            auth[key] = str(auth[key])
