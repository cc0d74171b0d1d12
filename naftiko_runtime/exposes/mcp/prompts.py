"""Prompts: argument checking, placeholder substitution, invocable-backed messages.

Static messages go through the shared ``substitute``: ``{arg}`` and ``{{arg}}`` in one pass over
the template, so an argument value is never interpolated again (no injection through arguments).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from naftiko_runtime.engine.coercion import unknown_arguments
from naftiko_runtime.errors import InputError
from naftiko_runtime.expressions.templates import substitute

from .catalog import PromptEntry
from .jsonrpc import INTERNAL_ERROR, INVALID_PARAMS, RpcError, dumps
from .tools import describe_failure


def prompt_descriptor(entry: PromptEntry) -> dict[str, Any]:
    prompt: dict[str, Any] = {"name": entry.name}
    if entry.title:
        prompt["title"] = entry.title
    if entry.description:
        prompt["description"] = entry.description
    if entry.arguments:
        arguments = []
        for argument in entry.arguments:
            item: dict[str, Any] = {"name": argument.name}
            if argument.title:
                item["title"] = argument.title
            if argument.description:
                item["description"] = argument.description
            item["required"] = argument.required
            arguments.append(item)
        prompt["arguments"] = arguments
    return prompt


class PromptIndex:
    def __init__(self, entries: Sequence[PromptEntry]) -> None:
        self._entries = {entry.name: entry for entry in entries}
        self.listing = [prompt_descriptor(entry) for entry in entries]

    def __bool__(self) -> bool:
        return bool(self._entries)

    async def get(self, name: Any, arguments: Any) -> dict[str, Any]:
        if not isinstance(name, str) or not name:
            raise RpcError(INVALID_PARAMS, "Invalid params: name is required")
        entry = self._entries.get(name)
        if entry is None:
            raise RpcError(INVALID_PARAMS, f"Invalid params: Unknown prompt: {name}")
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            raise RpcError(INVALID_PARAMS, "Invalid params: arguments must be an object")
        declared = {a.name for a in entry.arguments}
        unknown = [name for name in arguments if name not in declared] if declared else []
        if unknown:
            raise RpcError(
                INVALID_PARAMS,
                f"Invalid params: unknown argument(s) for '{name}': {', '.join(unknown)} "
                f"(it takes: {', '.join(declared)})",
            )
        missing = [a.name for a in entry.arguments if a.required and arguments.get(a.name) is None]
        if missing:
            names = ", ".join(missing)
            raise RpcError(
                INVALID_PARAMS, f"Invalid params: missing required argument(s) for '{name}': {names}"
            )
        # A declared argument left out is empty text, as every unset optional input is.
        filled = {**arguments, **{a.name: "" for a in entry.arguments if arguments.get(a.name) is None}}
        messages = []
        for message in entry.messages:
            if message.invocable is not None:
                text = await _dynamic_text(entry.name, message.invocable, arguments)
            else:
                text = substitute(message.text or "", filled)
            messages.append({"role": message.role, "content": {"type": "text", "text": text}})
        result: dict[str, Any] = {"messages": messages}
        if entry.description:
            result["description"] = entry.description
        return result


async def _dynamic_text(prompt: str, invocable: Any, arguments: dict[str, Any]) -> str:
    # The prompt's arguments are its contract (checked above); each message reads those it uses.
    unused = set(unknown_arguments(invocable.inputs, arguments))
    try:
        result = await invocable.invoke({k: v for k, v in arguments.items() if k not in unused})
    except InputError as exc:
        raise RpcError(INVALID_PARAMS, describe_failure(exc, prompt)) from None
    except Exception as exc:
        raise RpcError(INTERNAL_ERROR, describe_failure(exc, prompt)) from None
    value = result.value
    return value if isinstance(value, str) else dumps(value)
