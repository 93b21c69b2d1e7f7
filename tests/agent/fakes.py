"""In-test fakes: a retriever over fixed passages and a recording event sink."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from copilot.agent.deps import Passage
from copilot.events import EventType

PASSAGES = (
    Passage("returns-policy#1", "Returns and refunds", "Items can be returned within 30 days of delivery."),
    Passage("returns-policy#2", "Returns and refunds", "Refunds go back to the original payment method."),
    Passage("shipping#1", "Shipping", "Standard shipping takes 3-5 business days."),
)


@dataclass
class FixedRetriever:
    """Returns the same passages for every query (retrieval quality is tested in tests/knowledge)."""

    passages: Sequence[Passage] = PASSAGES
    queries: list[str] = field(default_factory=list)

    def search(self, query: str, k: int, audiences: Collection[str]) -> Sequence[Passage]:
        self.queries.append(query)
        return list(self.passages)[:k]


@dataclass
class RecordingSink:
    events: list[tuple[EventType, dict[str, Any], str | None]] = field(default_factory=list)

    async def emit(self, type: EventType, data: dict[str, Any], *, turn_id: str | None = None) -> int:
        self.events.append((type, data, turn_id))
        return len(self.events)

    def types(self) -> list[EventType]:
        return [t for t, _, _ in self.events]

    def of(self, type_: EventType) -> list[dict[str, Any]]:
        return [d for t, d, _ in self.events if t == type_]

    def clear(self) -> None:
        self.events.clear()
