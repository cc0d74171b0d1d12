"""A bind value that cannot be printed, logged or pickled by accident.

Bind values are credentials more often than not (the seed capability's ``LABEL_STUDIO_API_KEY``
holds ``Token abc123``). They travel through template contexts, error messages, ``repr`` of
dataclasses and log calls; any one of those could print them. Wrapping each value in
:class:`Secret` makes printing safe by default: every text conversion gives the mask, and the one
door to the value is :meth:`Secret.reveal`, which is easy to grep for and to review.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, NoReturn, final

MASK = "****"
"""What every text conversion of a :class:`Secret` gives."""


@final
class Secret:
    """An immutable string whose text forms are masked.

    ``str()``, ``repr()``, f-strings and ``format()`` all give ``'****'`` (a format spec such as
    ``>10`` applies to the mask, so table layouts still line up). Pickling and ``copy.copy`` through
    ``__reduce__`` are refused so a value cannot leave the process in a cache or a queue; ``copy``
    and ``deepcopy`` return the same object, which is safe because it is immutable. Equality with
    another :class:`Secret` is constant-time; for comparing with untrusted input (an incoming
    token) use :meth:`matches`. Secrets are hashable; the hash is derived from a SHA-256 digest so
    that it says nothing useful about the value.
    """

    __slots__ = ("__hash", "__value")
    __hash: int
    __value: str

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            # Say the type, never the value: a wrong type here is still probably a credential.
            raise TypeError(f"Secret holds a str, not {type(value).__name__}")
        object.__setattr__(self, "_Secret__value", value)
        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()
        object.__setattr__(self, "_Secret__hash", hash((Secret, digest)))

    def reveal(self) -> str:
        """The value itself. The only way to it: call this where the value leaves for the wire."""
        return self.__value

    def matches(self, candidate: str | bytes | Secret) -> bool:
        """Constant-time comparison with ``candidate`` (use it to check an incoming token)."""
        if isinstance(candidate, Secret):
            candidate = candidate.reveal()
        if isinstance(candidate, str):
            candidate = candidate.encode("utf-8", "surrogatepass")
        if not isinstance(candidate, bytes):
            return False
        return hmac.compare_digest(self.__value.encode("utf-8", "surrogatepass"), candidate)

    # -- text forms: always the mask --------------------------------------------------------------

    def __repr__(self) -> str:
        return MASK

    def __str__(self) -> str:
        return MASK

    def __format__(self, format_spec: str) -> str:
        return format(MASK, format_spec)

    # -- identity ---------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            # Comparing with a plain str would force hash(Secret) == hash(str), i.e. a hash of the
            # raw value; use matches() for that instead.
            return NotImplemented
        return self.matches(other)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return self.__hash

    # -- immutability and no serialisation --------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("Secret is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("Secret is immutable")

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled; call reveal() deliberately if it must leave")

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("a Secret cannot be pickled; call reveal() deliberately if it must leave")

    def __getstate__(self) -> NoReturn:
        raise TypeError("a Secret has no serialisable state; call reveal() deliberately if it must leave")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self
