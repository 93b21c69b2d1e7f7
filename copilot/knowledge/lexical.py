"""BM25 over chunks (bm25s), saved under a directory keyed by the content hash and memory-mapped on load."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from copilot.knowledge.chunks import Chunk
from copilot.knowledge.text import tokenize

TITLE_WEIGHT = 2
SECTION_WEIGHT = 2
K1 = 1.2
B = 0.75
KEEP_INDEXES = 3
Scores = np.ndarray[Any, np.dtype[np.float32]]


def chunk_tokens(chunk: Chunk) -> list[str]:
    """Indexed tokens: title and section heading repeated (a BM25F-style field weight) plus the text."""
    return (
        tokenize(chunk.title) * TITLE_WEIGHT + tokenize(chunk.section) * SECTION_WEIGHT + tokenize(chunk.text)
    )


class Lexical:
    def __init__(self, retriever: Any, size: int) -> None:
        self._retriever = retriever
        self._vocab: dict[str, int] = retriever.vocab_dict
        self._size = size

    @classmethod
    def open(cls, chunks: Sequence[Chunk], target: Path | None) -> tuple[Lexical, bool]:
        """The index saved at `target` (→ True), else a new one, saved there atomically."""
        if target is not None and (target / "params.index.json").is_file():
            retriever = bm25s.BM25.load(str(target), mmap=True, show_progress=False)
            return cls(retriever, len(chunks)), True
        retriever = bm25s.BM25(k1=K1, b=B)
        retriever.index([chunk_tokens(c) for c in chunks], show_progress=False)
        if target is not None:
            _save(retriever, target)
        return cls(retriever, len(chunks)), False

    def scores(self, weights: Mapping[str, float]) -> Scores:
        """BM25 score of every chunk for weighted query terms (one sparse pass per distinct weight)."""
        by_weight: dict[float, list[int]] = {}
        for term, weight in weights.items():
            if term in self._vocab and weight:
                by_weight.setdefault(weight, []).append(self._vocab[term])
        total: Scores | None = None
        for weight, ids in by_weight.items():
            part: Scores = self._retriever.get_scores_from_ids(ids)  # a fresh array: scaled in place
            if weight != 1:
                part *= np.float32(weight)
            total = part if total is None else np.add(total, part, out=total)
        return total if total is not None else np.zeros(self._size, dtype=np.float32)


def _save(retriever: Any, target: Path) -> None:
    """Save atomically (write to a temp dir, rename) and keep only the newest few indexes beside it."""
    index_dir = target.parent
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
    for stale in old[KEEP_INDEXES:]:
        shutil.rmtree(stale, ignore_errors=True)


logging.getLogger("bm25s").setLevel(logging.WARNING)
