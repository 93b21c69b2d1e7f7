"""The pack's domain vocabulary: the words of its intent examples. An utterance most of whose content words
the pack never uses ("what is photosynthesis", "what's on my calendar today") is out of scope, so it never
triggers a tool, however its character n-grams happen to score against an intent."""

from __future__ import annotations

from collections.abc import Iterable

from copilot.llm.answer import STOPWORDS
from copilot.llm.features import words

MIN_SHARE = 0.6
"""Chosen on evals/oos/*_calibration.* (out-of-scope utterances vs account requests); see ARCHITECTURE.md."""


class Domain:
    def __init__(self, texts: Iterable[str]) -> None:
        self.words = frozenset(w for text in texts for w in words(text))

    def share(self, text: str) -> float:
        """Share of `text`'s content words the domain uses (1.0 when it has none: nothing to judge)."""
        content = [w for w in words(text) if (w not in STOPWORDS and len(w) > 1) or w == "0"]
        return sum(w in self.words for w in content) / len(content) if content else 1.0

    def covers(self, text: str) -> bool:
        return self.share(text) >= MIN_SHARE
