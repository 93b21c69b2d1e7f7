"""retrieve: knowledge-base search of the latest user message; the passages become the citable context."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig

from copilot.agent.deps import Passage, Retriever
from copilot.agent.guard import latest_user_text
from copilot.agent.state import PassageState, SupportState, principal_of
from copilot.knowledge import KnowledgeBase
from copilot.knowledge.audience import Audience, audiences_for
from copilot.knowledge.relevance import RelevanceGate


def make_retrieve(retriever: Retriever, k: int) -> Any:
    async def retrieve(state: SupportState, config: RunnableConfig) -> dict[str, Any]:
        query = latest_user_text(state["messages"])
        audiences = audiences_for(principal_of(config))
        hits = retriever.search(query, k, audiences) if query else []
        passages: list[PassageState] = [{"id": h.id, "title": h.title, "text": h.text} for h in hits]
        return {"passages": passages}

    return retrieve


class KnowledgeRetriever:
    """Adapts copilot.knowledge.KnowledgeBase (hits carry a chunk) to the Retriever protocol; passages the
    relevance gate finds off-topic are dropped (so no model is shown, or cites, an unrelated article)."""

    def __init__(self, kb: KnowledgeBase, gate: RelevanceGate | None = None) -> None:
        self._kb = kb
        self._gate = gate if gate is not None else RelevanceGate()

    def search(self, query: str, k: int, audiences: Collection[Audience]) -> Sequence[Passage]:
        hits = self._gate.keep(query, self._kb.search(query, k, audiences))
        return [Passage(h.chunk.id, h.chunk.title, h.chunk.text) for h in hits]
