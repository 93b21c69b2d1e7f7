"""Extractive answers: the passage sentences that best overlap the question, each cited as [chunk-id]."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from copilot.llm.context import Passage

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_WORD = re.compile(r"[a-z0-9]+")
_STOP_TEXT = (
    "a an the and or but if of to in on at by for with from as is are was were be been being do does did "
    "i me my we our you your he she it its they them their this that these those there here what which "
    "who whom how when where why can could would should will shall may might must have has had not no yes "
    "so than then too very just also about into over under up down out off again once please help want "
    "need like know get tell hi hello thanks thank ok okay im id ive dont cant wont any some all "
)
STOPWORDS = frozenset(_STOP_TEXT.split())
MIN_OVERLAP = 0.25
"""Share of the question's (idf-weighted) content words a sentence must cover to count as an answer."""


@dataclass(frozen=True, slots=True)
class Answer:
    text: str
    citations: tuple[str, ...]


def stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    return {stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1}


def _sentences(passage: Passage) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(passage.text.replace("\n", " ")) if len(s.strip()) > 3]


def answer(question: str, passages: Sequence[Passage], prefer_doc: str | None = None) -> Answer | None:
    """1–3 best sentences with inline citations, or None when no passage covers the question well enough."""
    asked = content_words(question)
    candidates = [(p, s) for p in passages for s in _sentences(p)]
    rank = {p.id: i for i, p in enumerate(passages)}
    if not asked or not candidates:
        return None
    df = {w: sum(1 for _, s in candidates if w in content_words(s)) for w in asked}
    idf = {w: math.log(1 + len(candidates) / (1 + df[w])) for w in asked}
    total = sum(idf.values())

    def score(passage: Passage, sentence: str) -> float:
        matched = asked & (content_words(sentence) | content_words(passage.title))
        if len(matched) < min(2, len(asked)):  # one shared word out of several is a coincidence
            return 0.0
        covered = sum(idf[w] for w in matched) / total
        bonus = 0.15 if prefer_doc and passage.doc_id == prefer_doc else 0.0
        return covered + bonus + 0.05 * (1 - rank[passage.id] / len(passages))  # retrieval order breaks ties

    ranked = sorted(
        ((score(p, s), i, p, s) for i, (p, s) in enumerate(candidates)), key=lambda t: (-t[0], t[1])
    )
    best = ranked[0][0]
    if best < MIN_OVERLAP:
        return None
    chosen = [r for r in ranked[:3] if r[0] >= max(MIN_OVERLAP, 0.6 * best)]
    chosen.sort(key=lambda r: r[1])  # keep document order
    text = " ".join(f"{s} [{p.id}]" for _, _, p, s in chosen)
    cited = tuple(dict.fromkeys(p.id for _, _, p, _ in chosen))
    return Answer(text, cited)
