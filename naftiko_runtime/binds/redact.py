"""Scrubbing bind values out of text and log records.

:class:`~naftiko_runtime.binds.Secret` already masks itself, but a value that was revealed to build a
request (an ``Authorization`` header, a URL with an API key) can still reach a log line through an
exception message, an upstream echo or a debug dump. :func:`redact` and
:class:`SecretRedactingFilter` are the second line of defence: they replace every known value with
the mask wherever it appears.

Values shorter than four characters are not scrubbed: masking ``"1"`` or ``"on"`` everywhere would
destroy logs while protecting nothing (a real secret that short is not a secret).

A value is scrubbed in every spelling it can take on its way back: raw; without the scheme word a
credential often carries (``Token abc123`` is also found as ``abc123``); percent-encoded (``%20`` or
``+`` for a space, either case of hex digits); JSON-escaped; and base64 (standard and URL-safe, with
or without padding). Basic credentials are scrubbed as their ``user:password`` pair too (the runtime
adds each pair as a secret of its own), so ``Authorization: Basic <base64>`` echoed back is masked.
Scrubbing runs on whole texts, before anything is cut to length: a cut secret is no longer found.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from .resolve import BindValues
from .secret import MASK, Secret

MIN_REDACT_LENGTH = 4
"""Values shorter than this are left alone (see the module docstring)."""

# The scheme word of an `Authorization`-style value; the bare rest is a secret of its own.
_SCHEME = re.compile(r"(?i)(?:bearer|token|basic|digest|bot|apikey|api-key|key|ssws|sso-key)\s+(\S.*)")
_PERCENT = re.compile(r"%[0-9A-F]{2}")


def _spellings(value: str) -> set[str]:
    """Every spelling of ``value`` the module docstring lists (the bare value's too)."""
    values = {value}
    scheme = _SCHEME.fullmatch(value)
    if scheme:
        values.add(scheme.group(1))
    forms: set[str] = set()
    for text in values:
        raw = text.encode("utf-8", "surrogatepass")
        encoded = [base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()]
        forms |= {text, quote(text, safe=""), quote(text), quote_plus(text, safe=""), json.dumps(text)[1:-1]}
        forms |= {*encoded, *(form.rstrip("=") for form in encoded)}
    return {form for form in forms if len(form) >= MIN_REDACT_LENGTH}


def _pattern(form: str) -> str:
    """``form`` as a regular expression; its percent-escapes match in either case (``%2F``, ``%2f``)."""
    out: list[str] = []
    position = 0
    for match in _PERCENT.finditer(form):
        out.append(re.escape(form[position : match.start()]))
        out.append(
            "%" + "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in match.group(0)[1:])
        )
        position = match.end()
    out.append(re.escape(form[position:]))
    return "".join(out)


class Redactor:
    """A compiled matcher for a set of secrets; build once, apply to many strings."""

    def __init__(self, secrets: Iterable[Secret], min_length: int = MIN_REDACT_LENGTH) -> None:
        forms: set[str] = set()
        for secret in secrets:
            value = secret.reveal()
            if len(value) >= min_length:
                forms |= _spellings(value)
        # Longest first, so a secret that contains another secret is masked whole.
        ordered = sorted(forms, key=lambda form: (-len(form), form))
        self._pattern: re.Pattern[str] | None = (
            re.compile("|".join(_pattern(form) for form in ordered)) if ordered else None
        )

    def __bool__(self) -> bool:
        return self._pattern is not None

    def contains_secret(self, text: str) -> bool:
        """Whether ``text`` holds any of the secrets."""
        return self._pattern is not None and self._pattern.search(text) is not None

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by the mask."""
        if self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)


def redact(text: str, secrets: Iterable[Secret]) -> str:
    """Replace every secret value (four characters or more) in ``text`` with ``'****'``.

    For many strings, build a :class:`Redactor` once instead.
    """
    return Redactor(secrets).redact(text)


# Attributes every LogRecord has; anything else came from ``extra=`` and may be dumped by a
# structured (JSON) formatter, so it is scrubbed too.
_STANDARD_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


class SecretRedactingFilter(logging.Filter):
    """A logging filter that removes bind values from records before any handler formats them.

    Attach it to **handlers** (``handler.addFilter(...)``): a filter on a logger only sees records
    logged on that very logger, not those propagated from its children, while a handler filter sees
    every record that reaches the handler. The record is changed in place, so once scrubbed it
    stays scrubbed for every later handler.

    What is scrubbed: the formatted message (``msg % args``, so a value split across arguments such
    as ``"%s %s" % ("Token", token)`` is caught), the exception and stack text, and string
    attributes passed through ``extra=``. When the message held a secret, ``args`` are folded into
    ``msg`` (and cleared), because the arguments themselves carry the value.
    """

    def __init__(self, bind_values: BindValues | Iterable[Secret], name: str = "") -> None:
        super().__init__(name)
        secrets = bind_values.secrets() if isinstance(bind_values, BindValues) else tuple(bind_values)
        self._redactor = Redactor(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        redactor = self._redactor
        if not redactor:
            return True
        self._scrub_message(record)
        if record.exc_info and not record.exc_text:
            # Render the traceback now (Formatter.format reuses exc_text when it is set).
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and redactor.contains_secret(record.exc_text):
            record.exc_text = redactor.redact(record.exc_text)
        if record.stack_info and redactor.contains_secret(record.stack_info):
            record.stack_info = redactor.redact(record.stack_info)
        for key, value in vars(record).items():
            if key in _STANDARD_RECORD_ATTRS or not isinstance(value, str):
                continue
            if redactor.contains_secret(value):
                setattr(record, key, redactor.redact(value))
        return True

    def _scrub_message(self, record: logging.LogRecord) -> None:
        redactor = self._redactor
        try:
            message = record.getMessage()
        except Exception:
            # Bad arguments: the handler will report the formatting error itself. Scrub the parts.
            if isinstance(record.msg, str):
                record.msg = redactor.redact(record.msg)
            if isinstance(record.args, tuple):
                record.args = tuple(self._scrub_arg(arg) for arg in record.args)
            return
        leaks_in_args = record.args is not None and any(
            redactor.contains_secret(str(arg)) for arg in _iter_args(record.args)
        )
        if redactor.contains_secret(message) or leaks_in_args:
            record.msg = redactor.redact(message)
            record.args = None

    def _scrub_arg(self, arg: object) -> object:
        text = str(arg)
        return self._redactor.redact(text) if self._redactor.contains_secret(text) else arg


def _iter_args(args: object) -> Iterable[object]:
    if isinstance(args, tuple):
        return args
    if isinstance(args, dict):  # logger.info("%(token)s", {"token": ...})
        return args.values()
    return (args,)
