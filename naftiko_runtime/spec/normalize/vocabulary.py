"""The generated dialect's vocabulary: the variant spellings the tolerant reader accepts and what each
means in the spec's own terms.

``naftiko migrate`` rewrites a document into the spec's form with the same tables, so what the
reader accepts and what migrate writes cannot drift apart. :data:`DIALECT_TEXT` names each accepted
form in the one warning a file gets for it.
"""

from __future__ import annotations

import re

# Prefixes the generated dialect uses for "the exposed unit's own input" in `with` values.
DIALECT_REF_PREFIXES = frozenset({"rest", "tools", "mcp", "skill", "api", "args", "input", "inputs"})
# `ns.x` in a `with` value: the input `x`, when `ns` is one of the prefixes above or a namespace.
REFERENCE = re.compile(r"(?P<prefix>[A-Za-z0-9_-]+)\.(?P<name>[A-Za-z0-9_*-]+)")
# `{{ $.x }}`: a JSONPath wrapped like a template.
WRAPPED_PATH = re.compile(r"\{\{\s*(\$[^{}]*)\s*\}\}")
PARAM_TYPES = {
    "string": "string",
    "str": "string",
    "text": "string",
    "date": "string",
    "datetime": "string",
    "date-time": "string",
    "uuid": "string",
    "uri": "string",
    "url": "string",
    "email": "string",
    "file": "string",
    "binary": "string",
    "password": "string",
    "integer": "integer",
    "int": "integer",
    "int32": "integer",
    "int64": "integer",
    "long": "integer",
    "number": "number",
    "float": "number",
    "double": "number",
    "decimal": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "object": "object",
    "map": "object",
    "dict": "object",
    "json": "object",
}
AUTH_TYPES = {
    "basic": "basic",
    "digest": "digest",
    "bearer": "bearer",
    "oauth2": "oauth2",
    "apikey": "apikey",
    "api_key": "apikey",
    "api-key": "apikey",
    "header": "apikey",
}
BODY_TYPES = {
    "json": "json",
    "text": "text",
    "xml": "xml",
    "sparql": "sparql",
    "formurlencoded": "formUrlEncoded",
    "form": "formUrlEncoded",
    "urlencoded": "formUrlEncoded",
    "form-urlencoded": "formUrlEncoded",
    "multipartform": "multipartForm",
    "multipart": "multipartForm",
    "raw": "raw",
}
DIALECT_TEXT = {
    "info-title": "`info.title` read as `info.label`",
    "consumed-param-extras": "consumed input parameters carry `type`/`description`/`required`",
    "with-dialect-prefix": "`with` values `rest.x`/`tools.x` read as references to the unit's input `x`",
    "wrapped-jsonpath": "JSONPath wrapped in `{{ }}` read as plain JSONPath",
    "rest-description": "`description` on a REST adapter",
    "capability-binds": "`binds` under `capability`",
    "auth-key": "`auth:` read as `authentication:`",
    "auth-type-alias": "authentication type spelled as a variant (`apiKey`, `header`) read as `apikey`",
    "mapping-object": "output `mapping: {properties|items: ...}` read as sibling `properties`/`items`",
    "mapped-items-list": "`items` of a mapped output given as a list (the form of orchestrated outputs)",
    "prompt-messages": "prompt `messages` read as `template`",
    "body-type-alias": "request body `type` spelled as a variant (`form`) read as the spec's name",
    "param-type-alias": "parameter `type` outside the spec's set mapped to the nearest JSON type",
    "method-case": "HTTP method in lower case",
    "skill-from-wiki": "skill tool `from: {namespace, name}` read as `{sourceNamespace, action}`",
    "allowed-tools-list": "skill `allowed-tools` given as a list",
    "port-string": "port given as a string",
    "operation-id": "operation `id` read as `name`",
    "operation-path": "operation-level `path` appended to its resource's path",
}
