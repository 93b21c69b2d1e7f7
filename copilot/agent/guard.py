"""guard: start-of-turn bookkeeping and basic input checks (empty / too long / asks for a human)."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, RemoveMessage, ToolMessage
from langchain_core.runnables import RunnableConfig

from copilot.agent.emit import emit
from copilot.agent.hygiene import calls_of
from copilot.agent.state import NOTHING_SPENT, SupportState, turn_of
from copilot.llm.dialogue import asks_for_person

MOVED_ON = "The customer moved on before this was confirmed, so nothing was changed."
EMPTY_REPLY = "I didn't catch a question there. What can I help you with today?"
TOO_LONG_REPLY = (
    "That message is too long for me to handle ({size} characters; the limit is {limit}). "
    "Could you shorten it to the key question or order details?"
)


def latest_user_text(messages: list[AnyMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message.text.strip()
    return ""


def close_dangling(messages: list[AnyMessage], reason: str) -> list[ToolMessage]:
    """Answer tool calls left without a result (e.g. a preview the user never confirmed) so the history
    stays valid for real LLM APIs."""
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    content = json.dumps({"ok": False, "error": {"code": "not_executed", "message": reason}})
    return [
        ToolMessage(content=content, tool_call_id=call.id, name=call.name)
        for m in messages
        for call in calls_of(m)
        if call.id not in answered
    ]


def _reply(text: str) -> dict[str, Any]:
    emit("message.completed", {"text": text, "citations": [], "actions": [], "handoff": False})
    return {"messages": [AIMessage(content=text)], "final": True}


def make_guard(max_chars: int) -> Any:
    async def guard(state: SupportState, config: RunnableConfig) -> dict[str, Any]:
        messages = state["messages"]
        fresh: dict[str, Any] = {
            "turn_id": turn_of(config),
            "passages": [],
            "actions": [],
            "pending": [],
            "decision": None,
            "handoff": None,
            "repairs": 0,
            "failures": [],
            "spent": NOTHING_SPENT,
            "final": False,
        }
        dangling = close_dangling(messages[:-1], MOVED_ON)
        text = latest_user_text(messages)
        if not text:
            update = fresh | _reply(EMPTY_REPLY)
        elif len(text) > max_chars:
            update = fresh | _reply(TOO_LONG_REPLY.format(size=len(text), limit=max_chars))
        elif asks_for_person(text):
            update = fresh | {"handoff": {"reason": "user_request", "summary": text[:500]}}
        else:
            update = fresh
        if dangling and isinstance(messages[-1], HumanMessage):
            # Results must directly follow their tool calls: move the new user message after them.
            last = messages[-1]
            moved = HumanMessage(content=last.content, name=last.name)
            update["messages"] = [
                RemoveMessage(id=str(last.id)),
                *dangling,
                moved,
                *update.get("messages", []),
            ]
        return update

    return guard
