"""Retrieval evaluation: recall@k of required documents over the first k distinct documents retrieved."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from copilot.errors import CopilotError, ErrorCode
from copilot.knowledge.audience import EVERY_AUDIENCE
from copilot.knowledge.index import Hit, KnowledgeBase
from copilot.knowledge.text import tokenize

CHUNK_POOL = 200
PRF_DOCS = 3
PRF_TERMS = 20
PRF_WEIGHT = 0.3

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


def clean_query(instructions: str) -> str:
    """Keep the scenario: drop role-play staging sentences (who you play, how to talk, when to stop)."""
    sentences = [s.strip(" -*\t") for s in _SENTENCE.split(instructions)]
    kept = [s for s in sentences if s and not _BOILERPLATE.search(s)]
    return " ".join(kept) or instructions


def load_tasks(path: Path) -> list[RetrievalTask]:
    """Tasks with `instructions` (the customer's scenario) and `required_documents`."""
    tasks: list[RetrievalTask] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CopilotError(
                ErrorCode.BAD_REQUEST, f"{path}:{lineno} is not valid JSON ({exc.msg})."
            ) from exc
        if not isinstance(record, dict) or "required_documents" not in record:
            raise CopilotError(
                ErrorCode.BAD_REQUEST, f"{path}:{lineno} needs `instructions` and `required_documents`."
            )
        query = str(record.get("instructions") or record.get("query") or "")
        tasks.append(RetrievalTask(str(record.get("id", lineno)), query, tuple(record["required_documents"])))
    return tasks


def distinct_documents(hits: Iterable[Hit], k: int) -> list[str]:
    """The first k distinct doc ids of ranked chunk hits, in rank order."""
    docs: list[str] = []
    for hit in hits:
        if hit.chunk.doc_id not in docs:
            docs.append(hit.chunk.doc_id)
            if len(docs) == k:
                break
    return docs


def expand_query(kb: KnowledgeBase, weights: Mapping[str, float], hits: Sequence[Hit]) -> dict[str, float]:
    """Pseudo-relevance feedback: add the most frequent terms of the top documents, down-weighted."""
    top_docs = distinct_documents(hits, PRF_DOCS)
    feedback: Counter[str] = Counter()
    for chunk in kb.chunks:
        if chunk.doc_id in top_docs:
            feedback.update(tokenize(f"{chunk.title} {chunk.section} {chunk.text}"))
    expanded = dict(weights)
    for term, _ in feedback.most_common(PRF_TERMS):
        expanded[term] = expanded.get(term, 0.0) + PRF_WEIGHT
    return expanded


def retrieve_documents(kb: KnowledgeBase, query: str, k: int = 10, *, feedback: bool = True) -> list[str]:
    """Top-k distinct documents for a task scenario: cleaned query, chunk BM25, optional feedback."""
    weights = {term: float(n) for term, n in Counter(tokenize(clean_query(query))).items()}
    hits = kb.search_weighted(weights, CHUNK_POOL, EVERY_AUDIENCE)  # τ² agents read internal documents
    if feedback and hits:
        hits = kb.search_weighted(expand_query(kb, weights, hits), CHUNK_POOL, EVERY_AUDIENCE)
    return distinct_documents(hits, k)


def recall(retrieved: Sequence[str], required: Sequence[str]) -> float:
    """Fraction of required documents that were retrieved (1.0 when nothing is required)."""
    if not required:
        return 1.0
    return len(set(required) & set(retrieved)) / len(set(required))


def evaluate(
    kb: KnowledgeBase,
    tasks: Sequence[RetrievalTask],
    k: int = 10,
    *,
    on_task: Callable[[RetrievalTask, float], None] | None = None,
) -> float:
    """Mean recall@k over tasks."""
    total = 0.0
    for task in tasks:
        score = recall(retrieve_documents(kb, task.query, k), task.required)
        total += score
        if on_task is not None:
            on_task(task, score)
    return total / len(tasks) if tasks else 0.0
