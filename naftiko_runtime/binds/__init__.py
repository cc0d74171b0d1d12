"""Bind values: where a capability's ``{{VAR}}`` secrets come from, and how they stay secret.

* :func:`resolve_binds` reads every declared variable once at startup (environment or ``file://``
  JSON/YAML/.env, relative paths against the capability file's directory) and returns
  :class:`BindValues`; a missing value raises one :class:`BindResolutionError` naming them all.
* :func:`declared_variables` indexes declarations without reading anything, for validation.
* Every value is a :class:`Secret`: masked when printed, unpicklable, revealed only on purpose.
* :func:`redact` and :class:`SecretRedactingFilter` keep revealed values out of text and logs.
"""

from .providers import SUPPORTED_PROVIDERS, ProviderError, resolve_location
from .redact import MIN_REDACT_LENGTH, Redactor, SecretRedactingFilter, redact
from .resolve import (
    BindDeclaration,
    BindResolutionError,
    BindValues,
    DeclaredVariables,
    declared_variables,
    read_binds,
    resolve_binds,
)
from .secret import MASK, Secret

__all__ = [
    "MASK",
    "MIN_REDACT_LENGTH",
    "SUPPORTED_PROVIDERS",
    "BindDeclaration",
    "BindResolutionError",
    "BindValues",
    "DeclaredVariables",
    "ProviderError",
    "Redactor",
    "Secret",
    "SecretRedactingFilter",
    "declared_variables",
    "read_binds",
    "redact",
    "resolve_binds",
    "resolve_location",
]
