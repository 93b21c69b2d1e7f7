"""Is a retrieved passage about the question at all? A passage is kept when

    cosine(question, passage) + COVERAGE_WEIGHT × (share of the question's terms found in the passage) ≥ threshold

Without a dense model only the term share counts (against `LEXICAL_THRESHOLD`). The weights and thresholds were
chosen on our own calibration utterances (`evals/oos/*_calibration.*`: out-of-scope utterances and help-center
questions), never on the check files or on held-out sets; see ARCHITECTURE.md for the figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from copilot.knowledge.chunks import Chunk
from copilot.knowledge.index import Hit
from copilot.knowledge.lexical import chunk_tokens
from copilot.knowledge.text import tokenize

COVERAGE_WEIGHT = 0.2
THRESHOLD = 0.60
"""Calibration (evals/oos/*_calibration.*): the most in-scope answers among thresholds keeping OOS ≤ 1 %."""
LEXICAL_THRESHOLD = 0.5


@lru_cache(maxsize=4096)
def _terms(chunk: Chunk) -> frozenset[str]:
    """A chunk's indexed terms (chunks are immutable and come back every query)."""
    return frozenset(chunk_tokens(chunk))


@dataclass(frozen=True, slots=True)
class RelevanceGate:
    threshold: float = THRESHOLD
    lexical_threshold: float = LEXICAL_THRESHOLD

    def relevance(self, query: str, hit: Hit) -> float:
        terms = set(tokenize(query))
        share = len(terms & _terms(hit.chunk)) / len(terms) if terms else 0.0
        if hit.dense is None:
            return share
        return hit.dense + COVERAGE_WEIGHT * share

    def keep(self, query: str, hits: Sequence[Hit]) -> list[Hit]:
        """The hits that pass, in their order."""
        kept: list[Hit] = []
        for hit in hits:
            floor = self.lexical_threshold if hit.dense is None else self.threshold
            if self.relevance(query, hit) >= floor:
                kept.append(hit)
        return kept
