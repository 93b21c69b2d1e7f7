"""Retrieval evaluation: recall@10, precision@5 and MRR@10 of required documents over the first distinct
documents retrieved, beside plain bm25s over whole documents (the baseline), measured in the same run."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import bm25s

from copilot import jsonl
from copilot.errors import CopilotError, ErrorCode
from copilot.knowledge.audience import EVERY_AUDIENCE
from copilot.knowledge.chunks import Chunk
from copilot.knowledge.index import Hit, KnowledgeBase
from copilot.knowledge.text import tokenize

CHUNK_POOL = 200
Split = Literal["all", "calibration", "evaluation"]

# Sentences that stage a role-play rather than describe the customer's problem.
_BOILERPLATE = re.compile(
    r"playing the role|role of (?:a|the) customer|customer service representative|on the line with|"
    r"never respond as|don'?t dump|do not dump|only provide additional details|end the conversation|"
    r"transferr?(?:ed|ing)? (?:you )?to a human|behavio(?:u)?r guidelines|"
    r"you have access to a tool|no need to respond",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True, slots=True)
class RetrievalTask:
    id: str
    query: str
    required: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Scores:
    recall_at_10: float
    precision_at_5: float
    mrr_at_10: float

    def line(self) -> str:
        return f"recall@10 {self.recall_at_10:.3f}  precision@5 {self.precision_at_5:.3f}  MRR@10 {self.mrr_at_10:.3f}"


def in_split(task_id: str, split: Split) -> bool:
    """The declared split: a task is `calibration` when the first byte of sha256(id) is even (fusion and
    thresholds were chosen on those only), `evaluation` otherwise."""
    if split == "all":
        return True
    even = hashlib.sha256(task_id.encode()).digest()[0] % 2 == 0
    return even == (split == "calibration")


def clean_query(instructions: str) -> str:
    """Keep the scenario: drop role-play staging sentences (who you play, how to talk, when to stop)."""
    sentences = [s.strip(" -*\t") for s in _SENTENCE.split(instructions)]
    kept = [s for s in sentences if s and not _BOILERPLATE.search(s)]
    return " ".join(kept) or instructions


def load_tasks(path: Path, split: Split = "all") -> list[RetrievalTask]:
    """Tasks with `instructions` (the customer's scenario) and `required_documents`, in `split`."""
    tasks: list[RetrievalTask] = []
    for lineno, record in jsonl.records(path):
        if not isinstance(record, dict) or not isinstance(record.get("required_documents"), list):
            raise CopilotError(
                ErrorCode.BAD_REQUEST,
                f"{path}:{lineno} needs `instructions` and a `required_documents` list.",
            )
        query = str(record.get("instructions") or record.get("query") or "")
        task = RetrievalTask(
            str(record.get("id", lineno)), query, tuple(map(str, record["required_documents"]))
        )
        if in_split(task.id, split):
            tasks.append(task)
    return tasks


def distinct_documents(hits: Sequence[Hit], k: int) -> list[str]:
    """The first k distinct doc ids of ranked chunk hits, in rank order."""
    return list(dict.fromkeys(hit.chunk.doc_id for hit in hits))[:k]


def retrieve_documents(kb: KnowledgeBase, query: str, k: int = 10) -> list[str]:
    """Top-k distinct documents for a task scenario (cleaned), read as staff: τ² agents see internal docs."""
    cleaned = clean_query(query)
    weights = {term: float(n) for term, n in Counter(tokenize(cleaned)).items()}
    hits = kb.search_weighted(weights, CHUNK_POOL, EVERY_AUDIENCE, dense_text=cleaned)
    return distinct_documents(hits, k)


class WholeDocumentBaseline:
    """Plain bm25s over whole documents (title + text, its own tokenizer with English stopwords)."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        texts: dict[str, list[str]] = {}
        for chunk in chunks:
            texts.setdefault(chunk.doc_id, [chunk.title]).extend((chunk.section, chunk.text))
        self.doc_ids = list(texts)
        self._bm25 = bm25s.BM25()
        self._bm25.index(
            bm25s.tokenize([" ".join(t) for t in texts.values()], stopwords="en", show_progress=False),
            show_progress=False,
        )

    def retrieve(self, query: str, k: int = 10) -> list[str]:
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        results, _ = self._bm25.retrieve(tokens, k=min(k, len(self.doc_ids)), show_progress=False)
        return [self.doc_ids[int(i)] for i in results[0]]


def score(retrieved: Sequence[str], required: Sequence[str]) -> Scores:
    """Recall@10, precision@5 and MRR@10 of one ranking (recall 1.0 when nothing is required)."""
    wanted = set(required)
    if not wanted:
        return Scores(1.0, 0.0, 0.0)
    top10 = list(retrieved[:10])
    first = next((rank for rank, doc in enumerate(top10, start=1) if doc in wanted), None)
    return Scores(
        len(wanted & set(top10)) / len(wanted),
        len(wanted & set(retrieved[:5])) / 5,
        1 / first if first else 0.0,
    )


def mean(scores: Sequence[Scores]) -> Scores:
    n = max(len(scores), 1)
    return Scores(
        sum(s.recall_at_10 for s in scores) / n,
        sum(s.precision_at_5 for s in scores) / n,
        sum(s.mrr_at_10 for s in scores) / n,
    )


def evaluate(
    kb: KnowledgeBase,
    tasks: Sequence[RetrievalTask],
    *,
    on_task: Callable[[RetrievalTask, Scores], None] | None = None,
) -> tuple[Scores, Scores]:
    """(hybrid, whole-document bm25s baseline) mean scores over tasks."""
    baseline = WholeDocumentBaseline(kb.chunks)
    ours: list[Scores] = []
    base: list[Scores] = []
    for task in tasks:
        ours.append(score(retrieve_documents(kb, task.query, 10), task.required))
        base.append(score(baseline.retrieve(task.query, 10), task.required))
        if on_task is not None:
            on_task(task, ours[-1])
    return mean(ours), mean(base)
