"""Credentials that would render empty where ``naftiko validate`` runs.

A credential is a template over binds (``token: "{{API_TOKEN}}"``), and bind values exist only where
the capability runs. An exposed adapter whose credential renders empty refuses to start
(:func:`naftiko_runtime.exposes.auth.adapter_credential`); a consumed namespace's would send an
empty one upstream; a bind with no value at all stops ``naftiko serve`` before anything listens.
Validation reads the binds where it runs (the environment, bind files beside the document) and
warns at each credential field that would render blank, naming each variable that has no value or
an empty one and where it was looked for. Never a value.

Which fields are credentials is decided here once: :data:`CREDENTIAL_FIELDS` for what an adapter
checks and a consumer sends, plus the OAuth 2 client of a consumed namespace.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from ..binds import BindValues, declared_variables, read_binds
from ..expressions import compile_template
from .models import Authentication, Document, McpExpose
from .source import DocPath
from .variables import consumes_entries

Warn = Callable[[DocPath, str, str], None]

CREDENTIAL_FIELDS: Mapping[str, tuple[str, ...]] = {
    "bearer": ("token",),
    "apikey": ("value",),
    "basic": ("username", "password"),
    "digest": ("username", "password"),
}
"""The fields of each authentication type that hold a credential (model field names)."""

_CLIENT_FIELDS: Mapping[str, tuple[str, ...]] = {
    **CREDENTIAL_FIELDS,
    "oauth2": ("client_id", "client_secret"),
}
"""A consumed namespace also sends its OAuth 2 client's identity (an exposed adapter checks tokens
against its authorization server instead, and holds no credential of its own)."""

RULE = "credential-may-render-empty"


def checked_authentication(expose: object) -> Authentication | None:
    """The ``authentication`` an exposed adapter enforces: none over MCP stdio, where it is
    ignored (validate says so), so its credentials are never needed."""
    if isinstance(expose, McpExpose) and expose.transport == "stdio":
        return None
    auth: Authentication | None = getattr(expose, "authentication", None)
    return auth


def check_credentials(document: Document, environ: Mapping[str, str], warn: Warn) -> None:
    """Warn, through ``warn(path, message, rule)``, at every credential field of ``document`` that
    renders blank with the bind values found in ``environ`` and the bind files."""
    base_dir = Path(document.source_file).parent if document.source_file else None
    values, missing = read_binds(document.all_binds, base_dir, environ)
    lookup = _Lookup(document, values, {(p.bind, p.variable): p.reason for p in missing})
    for path, auth, fields, if_empty in _credentials(document):
        for field in fields:
            text = getattr(auth, field, None)
            if not text or "{{" not in text:
                continue  # absent (validate says so) or written out: nothing depends on a bind
            causes, unset = lookup.blank_causes(text)
            if causes:
                alias = type(auth).model_fields[field].alias or field
                consequence = "`naftiko serve` will not start until it has a value" if unset else if_empty
                warn(
                    (*path, alias),
                    f"{auth.type} `{alias}` would render empty in this environment: "
                    f"{'; '.join(causes)}; {consequence}",
                    RULE,
                )


def _credentials(document: Document) -> Iterator[tuple[DocPath, Authentication, tuple[str, ...], str]]:
    """Every authentication block: its place, the model, its credential fields and what an empty
    credential there does."""
    capability = document.capability
    for index, expose in enumerate(capability.exposes if capability else ()):
        auth = checked_authentication(expose)
        if auth is not None:
            path: DocPath = ("capability", "exposes", index, "authentication")
            yield path, auth, CREDENTIAL_FIELDS.get(auth.type, ()), "the adapter will refuse to start"
    for consumes, path in consumes_entries(document):
        auth = consumes.authentication
        if auth is not None:
            if_empty = f"calls to '{consumes.namespace}' would send it empty"
            yield (*path, "authentication"), auth, _CLIENT_FIELDS.get(auth.type, ()), if_empty


class _Lookup:
    """Bind values as validation found them, by the names templates use (``VAR``, ``ns.VAR``)."""

    def __init__(
        self, document: Document, values: BindValues, missing: Mapping[tuple[str, str], str]
    ) -> None:
        self.declared = declared_variables(document.all_binds)
        self.values = values
        self.missing = missing
        self.sources: dict[tuple[str, str], tuple[str | None, str]] = {}
        for bind in document.all_binds:
            for variable, key in bind.keys.items():
                self.sources.setdefault((bind.namespace, variable), (bind.location, key))

    def blank_causes(self, text: str) -> tuple[list[str], bool]:
        """Why ``text`` would render blank (each variable without a value or with an empty one),
        and whether one has no value at all; nothing when it renders to some text, or uses a name
        no bind declares (reported as an error already)."""
        template = compile_template(text)
        rendered: dict[str, str] = {}
        causes: list[str] = []
        unset = False
        for name in template.variables:
            place = self._place(name)
            if place is None:
                return [], False
            value = self.values.get(f"{place[0]}.{place[1]}")
            rendered[name] = "" if value is None else value.reveal()
            reason = self.missing.get(place)
            if reason is not None:
                unset = True
                causes.append(f"{{{{{name}}}}} {reason}")
            elif not rendered[name].strip():
                causes.append(f"{{{{{name}}}}} is empty ({self._source(place)})")
        if template.render(rendered).strip():
            return [], False
        return causes, unset

    def _place(self, name: str) -> tuple[str, str] | None:
        """The (bind, variable) ``name`` reads, by the resolver's rule: a plain name is its first
        bind's, then ``ns.VAR`` is bind ``ns``'s."""
        owner = self.declared.namespace_of(name)
        if owner is not None:
            return owner, name
        namespace, dot, variable = name.partition(".")
        return (namespace, variable) if dot and (namespace, variable) in self.sources else None

    def _source(self, place: tuple[str, str]) -> str:
        location, key = self.sources[place]
        if location and location.strip():
            return f"key '{key}' in {location}"
        return f"environment variable {key}"
