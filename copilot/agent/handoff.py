"""handoff: hand the conversation to a human (user asked, model called transfer_to_human_agents, or the
answer failed validation twice). Emits handoff.requested and ends the turn with the handoff flag set."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage

from copilot.agent.emit import emit
from copilot.agent.guard import close_dangling
from copilot.agent.state import HandoffState, SupportState

HANDOFF_REPLY = "I'm passing this conversation to a human support agent, who will pick it up from here."
HANDED_OFF = "The conversation was handed to a human agent before this ran, so nothing was changed."


async def handoff(state: SupportState) -> dict[str, Any]:
    request: HandoffState = state.get("handoff") or {"reason": "unspecified", "summary": ""}
    closers = close_dangling(state["messages"], HANDED_OFF)
    emit("handoff.requested", {"reason": request["reason"], "summary": request["summary"]})
    emit(
        "message.completed",
        {"text": HANDOFF_REPLY, "citations": [], "actions": state.get("actions", []), "handoff": True},
    )
    return {
        "messages": [*closers, AIMessage(content=HANDOFF_REPLY)],
        "pending": [],
        "handoff": request,
        "final": True,
    }
