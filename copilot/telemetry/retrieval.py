"""Knowledge-base search, observed: a `retrieval` span (query size, k, hits) and the latency histogram."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence

from copilot.agent.deps import Passage, Retriever
from copilot.knowledge.audience import Audience
from copilot.telemetry import metering, metrics
from copilot.telemetry.tracing import span


class ObservedRetriever:
    """Wraps any Retriever (the graph's retrieve node and agent assist call it the same way)."""

    def __init__(self, inner: Retriever) -> None:
        self._inner = inner

    def search(self, query: str, k: int, audiences: Collection[Audience]) -> Sequence[Passage]:
        began = time.perf_counter()
        with span("retrieval") as s:
            hits = self._inner.search(query, k, audiences)
            if s is not None:
                s.set_attributes({"copilot.retrieval.k": k, "copilot.retrieval.hits": len(hits)})
        if metering():
            metrics.RETRIEVAL_LATENCY.observe(time.perf_counter() - began)
        return hits
