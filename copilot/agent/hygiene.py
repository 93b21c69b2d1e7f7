"""Tool-call hygiene: every call the model emits gets exactly one result (a call whose arguments did not parse
becomes an `invalid` result the model can act on), repeated identical failures are detected, and the
history sent to the model is trimmed to its context window (the checkpointed history keeps everything)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.messages.utils import count_tokens_approximately, trim_messages

FAILED_OUTCOMES = frozenset({"denied", "invalid", "error"})


@dataclass(frozen=True, slots=True)
class CallRef:
    id: str
    name: str


def calls_of(message: BaseMessage) -> list[CallRef]:
    """Every tool call of an AI message, parsed or not (each needs exactly one ToolMessage)."""
    if not isinstance(message, AIMessage):
        return []
    refs = [CallRef(str(c["id"]), c["name"]) for c in message.tool_calls if c.get("id")]
    refs += [
        CallRef(str(c["id"]), str(c.get("name") or "unknown"))
        for c in message.invalid_tool_calls
        if c.get("id")
    ]
    return refs


def invalid_result(call_id: str, name: str, error: str | None) -> tuple[ToolMessage, dict[str, Any]]:
    """The tool message and the tool.invalid event data for a call whose arguments are not a JSON object."""
    message = (
        f"The arguments of this {name} call are not valid JSON ({error or 'could not be parsed'}); nothing "
        "ran. Call the tool again with a JSON object that matches its parameters."
    )
    body = {"ok": False, "error": {"code": "invalid_arguments", "message": message}}
    tool_message = ToolMessage(content=json.dumps(body), tool_call_id=call_id, name=name, status="error")
    return tool_message, {"call_id": call_id, "tool": name, "code": "invalid_arguments", "message": message}


def signature(name: str, arguments: object) -> str:
    """Identical calls (same tool, same canonical arguments) share a signature."""
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments, sort_keys=True, default=str)
    return hashlib.sha256(f"{name}\0{raw}".encode()).hexdigest()[:16]


def fit(messages: Sequence[AnyMessage], budget: int) -> list[AnyMessage]:
    """The most recent messages within `budget` tokens (approximate count), starting at a human message so
    no tool result is separated from its call. The current turn (from the last human message on: its tool
    results and the decided preview) is always kept whole, even over budget."""
    if count_tokens_approximately(messages) <= budget:
        return list(messages)
    kept: list[BaseMessage] = trim_messages(
        list(messages), max_tokens=budget, token_counter=count_tokens_approximately, strategy="last",
        start_on="human", include_system=False, allow_partial=False,
    )  # fmt: skip
    last_human = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=0)
    current = list(messages[last_human:])
    return cast(list[AnyMessage], kept) if len(kept) >= len(current) else current
