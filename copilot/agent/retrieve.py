"""retrieve: knowledge-base search of the latest user message; the passages become the citable context."""

from __future__ import annotations

from typing import Any

from copilot.agent.deps import Retriever
from copilot.agent.guard import latest_user_text
from copilot.agent.state import PassageState, SupportState


def make_retrieve(retriever: Retriever, k: int) -> Any:
    def retrieve(state: SupportState) -> dict[str, Any]:
        query = latest_user_text(state["messages"])
        hits = retriever.search(query, k) if query else []
        passages: list[PassageState] = [{"id": h.id, "title": h.title, "text": h.text} for h in hits]
        return {"passages": passages}

    return retrieve
