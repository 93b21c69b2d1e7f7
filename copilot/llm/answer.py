"""Extractive answers: the passage sentences that support the question, composed into one short answer.

Each sentence is scored by how much of the question's (idf-weighted) content it covers and by the meaning of
question and sentence (WordLlama vectors, shipped in its wheel, offline); below the support threshold there
is no answer (the caller offers a human). The answer is the best sentence plus up to two more from the same
passage that also support the question — no off-topic or duplicate sentences, no dangling connectives — and
each passage used is cited once, as [chunk-id], after its sentences. The weights and threshold were
calibrated on the pack's own questions (bench/calibrate_answers.py), not on evaluation questions."""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import numpy as np

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
_CONNECTIVE = re.compile(
    r"^(after that|then|also|however|in that case|instead|otherwise|in addition|besides|finally|first|second"
    r"|next|so|and|but|still|even so|as a result|for this reason|this way|that way|here)\s*,?\s+",
    re.IGNORECASE,
)
_REFERS_BACK = re.compile(r"^(it|they|this|that|these|those|there|such|both|the same)\b", re.IGNORECASE)

W_LEXICAL, W_DENSE, W_PASSAGE, W_RANK = 0.4, 0.3, 0.3, 0.1
"""Weights in a sentence's support: lexical coverage of the question, question–sentence cosine, question–passage
cosine (the passage is about the question) and the retrieval rank of its passage."""
SUPPORT = 0.42
"""Minimum support of the best sentence for an answer (calibrated, see the module docstring)."""
KEEP = 0.85
"""Further sentences must reach this share of the best sentence's support."""
DUPLICATE = 0.9
"""Cosine above which a sentence repeats one already chosen."""
PREFER_BONUS = 0.08
MAX_SENTENCES = 3


@dataclass(frozen=True, slots=True)
class Answer:
    text: str
    citations: tuple[str, ...]


@lru_cache(maxsize=1 << 16)  # pure; the same words come back every turn
def stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    return {stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1}


def _sentences(passage: Passage) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(passage.text.replace("\n", " ")) if len(s.strip()) > 3]


@cache
def _embedder() -> Any:
    from copilot.knowledge.embedder import WordLlamaEmbedder

    return WordLlamaEmbedder()


class _Vectors:
    """Embeddings by text, least recently used dropped past `size`: the passages and their sentences come from
    the knowledge base, so most turns embed the same texts again (~2 ms per turn). WordLlama embeds each text
    on its own (mean of its token vectors), so a cached row equals the one a batch would give."""

    def __init__(self, size: int = 8192) -> None:
        self._size = size
        self._rows: OrderedDict[str, np.ndarray[Any, np.dtype[np.float32]]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
        if not texts:
            return np.zeros((0, 256), dtype=np.float32)
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._rows))
            if missing:
                self._rows.update(zip(missing, _embedder().embed(missing), strict=True))
            for text in texts:
                self._rows.move_to_end(text)
            rows = [self._rows[t] for t in texts]
            while len(self._rows) > self._size:
                self._rows.popitem(last=False)
        return np.stack(rows)


embed = _Vectors()


@dataclass(frozen=True, slots=True)
class Candidate:
    passage: Passage
    position: int
    """Index of the sentence in its passage."""
    text: str
    support: float


def candidates(question: str, passages: Sequence[Passage], prefer_doc: str | None = None) -> list[Candidate]:
    """Every passage sentence with its support for the question, best first (retrieval order breaks ties)."""
    pairs = [(p, i, s) for p in passages for i, s in enumerate(_sentences(p))]
    asked = content_words(question)
    if not pairs or not asked:
        return []
    words = [content_words(s) | content_words(p.title) for p, _, s in pairs]
    idf = {w: math.log(1 + len(pairs) / (1 + sum(w in ws for ws in words))) for w in asked}
    total = sum(idf.values())
    vectors = embed([question, *(s for _, _, s in pairs), *(f"{p.title}. {p.text}" for p in passages)])
    dense = vectors[1 : 1 + len(pairs)] @ vectors[0]
    about = dict(zip((p.id for p in passages), vectors[1 + len(pairs) :] @ vectors[0], strict=True))
    rank = {p.id: n for n, p in enumerate(passages)}
    out = []
    for (passage, position, sentence), ws, cosine in zip(pairs, words, dense, strict=True):
        covered = sum(idf[w] for w in asked & ws) / total
        support = W_LEXICAL * covered + W_DENSE * float(cosine) + W_PASSAGE * float(about[passage.id])
        support += PREFER_BONUS if prefer_doc and passage.doc_id == prefer_doc else 0.0
        support += W_RANK * (1 - rank[passage.id] / len(passages))
        if _REFERS_BACK.match(sentence) and position > 0:
            support -= 0.05  # "It …" without the sentence it refers to reads as a fragment
        out.append(Candidate(passage, position, sentence, support))
    return sorted(out, key=lambda c: -c.support)


def answer(question: str, passages: Sequence[Passage], prefer_doc: str | None = None) -> Answer | None:
    """A short cited answer from the sentences that support the question, or None when none does."""
    ranked = candidates(question, passages, prefer_doc)
    if not ranked or ranked[0].support < SUPPORT:
        return None
    best = ranked[0]
    chosen = [best]
    for other in ranked[1:]:
        if len(chosen) == MAX_SENTENCES or other.support < KEEP * best.support:
            break
        if other.passage.id == best.passage.id and not _repeats(other, chosen):
            chosen.append(other)
    chosen.sort(key=lambda c: c.position)
    text = " ".join(_standalone(c, chosen) for c in chosen)
    return Answer(f"{text} [{best.passage.id}]", (best.passage.id,))


def _repeats(candidate: Candidate, chosen: Sequence[Candidate]) -> bool:
    vectors = embed([candidate.text, *(c.text for c in chosen)])
    return bool(np.max(vectors[1:] @ vectors[0]) > DUPLICATE)


def _standalone(candidate: Candidate, chosen: Sequence[Candidate]) -> str:
    """The sentence without a leading connective when what it connects to is not in the answer."""
    follows = any(c.position == candidate.position - 1 for c in chosen)
    if follows:
        return candidate.text
    stripped = _CONNECTIVE.sub("", candidate.text, count=1)
    return stripped[:1].upper() + stripped[1:]
