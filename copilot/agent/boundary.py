"""The context boundary after a human agent hands a conversation back: the thread's message history is
cleared (so neither the guard nor the model re-reads the old request for a human and loops back into the
handoff), any unconfirmed preview is abandoned, and a note tells the model what happened."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import RemoveMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph.message import REMOVE_ALL_MESSAGES
from langgraph.pregel import Pregel


async def mark_boundary(graph: Pregel[Any, Any, Any, Any], conversation_id: str, note: str) -> None:
    """Start the thread afresh after a handoff (no-op when the bot never ran in this conversation)."""
    config: RunnableConfig = {"configurable": {"thread_id": conversation_id}}
    snapshot = await graph.aget_state(config)
    if not snapshot.values.get("messages"):
        return
    update = {
        "messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES)],
        "note": note,
        "handoff": None,
        "pending": [],
        "decision": None,
        "passages": [],
        "actions": [],
    }
    await graph.aupdate_state(config, update, as_node="handoff")
