"""The knowledge base: chunks, a BM25 index and (optionally) dense vectors, fused by reciprocal rank.

Both indexes are saved under `index_dir/<content hash>` and reused while the chunks, the tokenizer and the
embedding model are unchanged, so a restart neither re-indexes nor re-embeds."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from copilot.knowledge.audience import PUBLIC_ONLY, Audience
from copilot.knowledge.chunks import Chunk
from copilot.knowledge.embedder import Embedder
from copilot.knowledge.ingest import load_path
from copilot.knowledge.lexical import K1, SECTION_WEIGHT, TITLE_WEIGHT, B, Lexical
from copilot.knowledge.text import TOKENIZER_VERSION, tokenize
from copilot.knowledge.topk import top_n
from copilot.knowledge.vectors import DenseIndex, Mask

POOL = 100
"""Candidates taken from each ranking before fusion."""
RRF_K = 20
LEXICAL_WEIGHT = 1.0
DENSE_WEIGHT = 0.25
"""Fusion: score(chunk) = Σ weight / (RRF_K + rank) over the two rankings (calibration in ARCHITECTURE.md)."""


@dataclass(frozen=True, slots=True)
class Hit:
    chunk: Chunk
    score: float
    """Fused (reciprocal-rank) score of the chunk."""
    doc_score: float = 0.0
    """Fused score of its document: its best chunk's."""
    lexical: float = 0.0
    """BM25 score (0 when the chunk shares no term with the query)."""
    dense: float | None = None
    """Cosine similarity to the query (None without a dense model, or outside the dense candidates)."""


def content_hash(chunks: Sequence[Chunk]) -> str:
    """Hash of the chunks and of everything that shapes the index (tokenizer, weights, BM25 parameters)."""
    digest = hashlib.sha256(f"v{TOKENIZER_VERSION}:{TITLE_WEIGHT}:{SECTION_WEIGHT}:{K1}:{B}".encode())
    for chunk in chunks:
        digest.update(json.dumps(asdict(chunk), sort_keys=True).encode())
    return digest.hexdigest()[:24]


def embedding_text(chunk: Chunk) -> str:
    return f"{chunk.title}. {chunk.section}. {chunk.text}"


class KnowledgeBase:
    """Chunks plus their indexes. Pass `index_dir` to reuse saved indexes; `embedder=None` is BM25 only."""

    def __init__(
        self, chunks: Sequence[Chunk], *, index_dir: Path | None = None, embedder: Embedder | None = None
    ) -> None:
        self.chunks: tuple[Chunk, ...] = tuple(chunks)
        self._by_id = {chunk.id: chunk for chunk in self.chunks}
        self._audience = np.array([chunk.audience for chunk in self.chunks], dtype=object)
        self._masks: dict[frozenset[Audience], Mask] = {}
        docs = {doc: i for i, doc in enumerate(dict.fromkeys(c.doc_id for c in self.chunks))}
        self._doc_of = [docs[c.doc_id] for c in self.chunks]
        self.hash = content_hash(self.chunks)
        target = index_dir / self.hash if index_dir is not None else None
        self.loaded_from_disk = False
        self._lexical: Lexical | None = None
        self.dense: DenseIndex | None = None
        if self.chunks:
            self._lexical, self.loaded_from_disk = Lexical.open(self.chunks, target)
            if embedder is not None:
                texts = lambda: [embedding_text(c) for c in self.chunks]  # noqa: E731
                self.dense, _ = DenseIndex.open(embedder, texts, target)

    @classmethod
    def from_paths(
        cls, paths: Iterable[Path], *, index_dir: Path | None = None, embedder: Embedder | None = None
    ) -> KnowledgeBase:
        """Ingest files/directories (Markdown, HTML, JSONL) and index them."""
        chunks = [chunk for path in paths for chunk in load_path(path)]
        return cls(chunks, index_dir=index_dir, embedder=embedder)

    def __len__(self) -> int:
        return len(self.chunks)

    def get(self, chunk_id: str) -> Chunk | None:
        return self._by_id.get(chunk_id)

    def readable(self, audiences: Collection[Audience]) -> Mask:
        """Mask over `chunks`: True where the chunk's document is for one of `audiences`."""
        key = frozenset(audiences)
        if key not in self._masks:
            mask = np.zeros(len(self.chunks), dtype=bool)
            for audience in key:
                mask |= self._audience == audience
            self._masks[key] = mask
        return self._masks[key]

    def search(self, query: str, k: int = 10, audiences: Collection[Audience] = PUBLIC_ONLY) -> list[Hit]:
        """Top-k chunks for `query` among documents for `audiences` (public only unless told), best first."""
        return self.search_weighted(Counter(tokenize(query)), k, audiences, dense_text=query)

    def search_weighted(
        self,
        weights: Mapping[str, float],
        k: int = 10,
        audiences: Collection[Audience] = PUBLIC_ONLY,
        *,
        dense_text: str | None = None,
    ) -> list[Hit]:
        """Top-k chunks for weighted query terms (BM25) and, with a dense model, `dense_text`, fused."""
        if self._lexical is None:
            return []
        allowed = self.readable(audiences)
        lexical = self._lexical.scores(weights)
        lexical *= allowed  # one pass, no inverted mask
        lexical_top = _top_positive(lexical, POOL)
        dense_top: list[int] = []
        query_vector = None
        if self.dense is not None and dense_text and dense_text.strip():
            query_vector = self.dense.query(dense_text)
            positions, _ = self.dense.search(query_vector, POOL, allowed)
            dense_top = [int(i) for i in positions]
        fused = _fuse(((lexical_top, LEXICAL_WEIGHT), (dense_top, DENSE_WEIGHT)))
        return self._hits(fused, k, lexical, query_vector)

    def _hits(self, fused: dict[int, float], k: int, lexical: Any, query_vector: Any) -> list[Hit]:
        doc_of = self._doc_of
        doc_best: dict[int, float] = {}
        for i, score in fused.items():
            doc = doc_of[i]
            if score > doc_best.get(doc, 0.0):
                doc_best[doc] = score
        order = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        cosines: list[float | None] = [None] * len(order)
        if self.dense is not None and query_vector is not None and order:
            cosines = [float(c) for c in np.asarray(self.dense.vectors[order] @ query_vector)]
        return [
            Hit(self.chunks[i], fused[i], doc_best[doc_of[i]], float(lexical[i]), cosine)
            for i, cosine in zip(order, cosines, strict=True)
        ]


def _top_positive(scores: Any, n: int) -> list[int]:
    """Positions of the n best positive scores, best first (ties by position)."""
    positive = np.flatnonzero(scores > 0)  # first: a partition over many equal zeros is slow (10+ ms at 100k)
    return [int(i) for i in positive[top_n(scores[positive], n)]]


def _fuse(rankings: Iterable[tuple[Sequence[int], float]]) -> dict[int, float]:
    """Weighted reciprocal-rank fusion of rankings of chunk positions."""
    fused: dict[int, float] = {}
    for ranking, weight in rankings:
        for rank, position in enumerate(ranking, start=1):
            fused[position] = fused.get(position, 0.0) + weight / (RRF_K + rank)
    return fused
