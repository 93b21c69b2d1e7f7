"""BM25 retrieval over chunks (bm25s), persisted under a directory keyed by a content hash."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from copilot.knowledge.audience import PUBLIC_ONLY, Audience
from copilot.knowledge.chunks import Chunk
from copilot.knowledge.ingest import load_path
from copilot.knowledge.text import TOKENIZER_VERSION, tokenize

TITLE_WEIGHT = 2
SECTION_WEIGHT = 2
K1 = 1.2
B = 0.75
_KEEP_INDEXES = 3


@dataclass(frozen=True, slots=True)
class Hit:
    chunk: Chunk
    score: float


def chunk_tokens(chunk: Chunk) -> list[str]:
    """Indexed tokens: title and section heading repeated (a BM25F-style field weight) plus the text."""
    return (
        tokenize(chunk.title) * TITLE_WEIGHT + tokenize(chunk.section) * SECTION_WEIGHT + tokenize(chunk.text)
    )


def content_hash(chunks: Sequence[Chunk]) -> str:
    """Hash of the chunks and of everything that shapes the index (tokenizer, weights, BM25 parameters)."""
    digest = hashlib.sha256(f"v{TOKENIZER_VERSION}:{TITLE_WEIGHT}:{SECTION_WEIGHT}:{K1}:{B}".encode())
    for chunk in chunks:
        digest.update(json.dumps(asdict(chunk), sort_keys=True).encode())
    return digest.hexdigest()[:24]


class KnowledgeBase:
    """Chunks plus a BM25 index. Pass `index_dir` to reuse a saved index when the content hash matches."""

    def __init__(self, chunks: Sequence[Chunk], *, index_dir: Path | None = None) -> None:
        self.chunks: tuple[Chunk, ...] = tuple(chunks)
        self._by_id = {chunk.id: chunk for chunk in self.chunks}
        self._audience = np.array([chunk.audience for chunk in self.chunks], dtype=object)
        self.hash = content_hash(self.chunks)
        self.loaded_from_disk = False
        self._retriever = self._open(index_dir) if self.chunks else None

    @classmethod
    def from_paths(cls, paths: Iterable[Path], *, index_dir: Path | None = None) -> KnowledgeBase:
        """Ingest files/directories (Markdown, HTML, JSONL) and index them."""
        return cls([chunk for path in paths for chunk in load_path(path)], index_dir=index_dir)

    def __len__(self) -> int:
        return len(self.chunks)

    def readable(self, audiences: Collection[Audience]) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Mask over `chunks`: True where the chunk's document is for one of `audiences`."""
        mask = np.zeros(len(self.chunks), dtype=bool)
        for audience in set(audiences):
            mask |= self._audience == audience
        return mask

    def get(self, chunk_id: str) -> Chunk | None:
        return self._by_id.get(chunk_id)

    def search(self, query: str, k: int = 10, audiences: Collection[Audience] = PUBLIC_ONLY) -> list[Hit]:
        """Top-k chunks for `query` among documents for `audiences` (public only unless told), best first;
        chunks that share no term with the query are left out."""
        return self.search_weighted(Counter(tokenize(query)), k, audiences)

    def search_weighted(
        self, weights: Mapping[str, float], k: int = 10, audiences: Collection[Audience] = PUBLIC_ONLY
    ) -> list[Hit]:
        """Top-k chunks for a bag of (already tokenised) query terms with weights."""
        scores = self.scores(weights)
        if scores is None:
            return []
        scores[~self.readable(audiences)] = 0.0
        top = np.argsort(-scores, kind="stable")[:k]
        return [Hit(self.chunks[i], float(scores[i])) for i in top if scores[i] > 0]

    def scores(self, weights: Mapping[str, float]) -> np.ndarray[Any, np.dtype[np.float32]] | None:
        """BM25 score of every chunk (in `chunks` order) for weighted query terms; None for an empty KB."""
        if self._retriever is None:
            return None
        total = np.zeros(len(self.chunks), dtype=np.float32)
        vocab: dict[str, int] = self._retriever.vocab_dict
        for term, weight in weights.items():
            if term in vocab and weight:
                total += weight * self._retriever.get_scores([vocab[term]])
        return total

    def _open(self, index_dir: Path | None) -> Any:
        target = index_dir / self.hash if index_dir else None
        if target is not None and (target / "params.index.json").is_file():
            self.loaded_from_disk = True
            return bm25s.BM25.load(str(target), show_progress=False)
        retriever = bm25s.BM25(k1=K1, b=B)
        retriever.index([chunk_tokens(c) for c in self.chunks], show_progress=False)
        if index_dir is not None and target is not None:
            _save(retriever, index_dir, target)
        return retriever


def _save(retriever: Any, index_dir: Path, target: Path) -> None:
    """Save atomically (write to a temp dir, rename) and keep only the newest few indexes."""
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = index_dir / f".{target.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    retriever.save(str(tmp), show_progress=False)
    try:
        tmp.rename(target)
    except OSError:  # another process saved the same index first
        shutil.rmtree(tmp, ignore_errors=True)
    old = sorted(
        (p for p in index_dir.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for stale in old[_KEEP_INDEXES:]:
        shutil.rmtree(stale, ignore_errors=True)


logging.getLogger("bm25s").setLevel(logging.WARNING)
