"""Dense chunk vectors: embedded once, saved beside the BM25 index (`dense-<model>.npy`), memory-mapped on
load. Search is exact: a coarse pass over the first `coarse_dim` dimensions of every vector (WordLlama is
matryoshka-trained, so a prefix is itself an embedding), then the full vectors of the best candidates. The
coarse pass runs over a contiguous copy of the allowed rows only (one per audience mask, kept), so it is one
BLAS call with no masking and no work for chunks the reader may not see."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import threadpoolctl

from copilot.knowledge.embedder import Embedder, Vectors
from copilot.knowledge.topk import top_n

SUBSETS = 4
"""Coarse matrices kept for distinct audience masks (a knowledge base has at most a few)."""
CANDIDATES = 400
"""Chunks re-scored at full dimension after the coarse pass."""
COARSE_DIM = 64
COARSE_FROM = 20_000
"""Below this many chunks a single full-dimension pass is as fast."""
Mask = np.ndarray[Any, np.dtype[np.bool_]]

# One BLAS thread: a matrix-vector product per query is latency-bound, and threads only queue behind other
# requests on a busy server (p95 at 100k chunks: 3.3 → 9.7 ms with OpenBLAS threads on 2 loaded cores).
threadpoolctl.threadpool_limits(limits=1, user_api="blas")


class DenseIndex:
    def __init__(self, embedder: Embedder, vectors: Vectors, *, coarse_dim: int | None = COARSE_DIM) -> None:
        self.embedder = embedder
        self.vectors = vectors
        use_coarse = coarse_dim is not None and len(vectors) >= COARSE_FROM and vectors.shape[1] > coarse_dim
        self._coarse = np.ascontiguousarray(vectors[:, :coarse_dim]) if use_coarse else None
        self._subsets: dict[bytes, tuple[np.ndarray[Any, Any], Vectors]] = {}

    @classmethod
    def open(
        cls, embedder: Embedder, texts: Callable[[], Sequence[str]], directory: Path | None
    ) -> tuple[DenseIndex, bool]:
        """The saved vectors of `directory` if present (→ True), else embed `texts()` and save them."""
        path = directory / f"dense-{embedder.name}.npy" if directory is not None else None
        if path is not None and path.is_file():
            vectors = np.load(path, mmap_mode="r")
            return cls(embedder, vectors, coarse_dim=_coarse_dim(embedder)), True
        vectors = embedder.embed(texts())
        if path is not None:
            _save(path, vectors)
        return cls(embedder, vectors, coarse_dim=_coarse_dim(embedder)), False

    def query(self, text: str) -> Vectors:
        vector: Vectors = self.embedder.embed([text])[0]
        return vector

    def search(self, query: Vectors, n: int, allowed: Mask) -> tuple[np.ndarray[Any, Any], Vectors]:
        """(chunk positions, cosine similarities) of the `n` nearest allowed chunks, best first."""
        if self._coarse is not None:
            rows, matrix = self._allowed_coarse(allowed)
            coarse = matrix @ query[: matrix.shape[1]]
            pool = rows[np.sort(top_n(coarse, max(CANDIDATES, n)))]  # ascending: sequential reads of the map
            scores = np.asarray(self.vectors[pool] @ query, dtype=np.float32)
            order = top_n(scores, n)
            return pool[order], scores[order]
        scores = np.asarray(self.vectors @ query, dtype=np.float32)
        scores[~allowed] = -np.inf
        top = top_n(scores, n)
        top = top[np.isfinite(scores[top])]
        return top, scores[top]

    def _allowed_coarse(self, allowed: Mask) -> tuple[np.ndarray[Any, Any], Vectors]:
        """(row positions, their coarse vectors) of the allowed chunks, built once per distinct mask."""
        assert self._coarse is not None
        key = np.packbits(allowed).tobytes()
        subset = self._subsets.get(key)
        if subset is None:
            rows = np.flatnonzero(allowed)
            every = len(rows) == len(self._coarse)  # staff: the whole matrix, no copy
            subset = rows, self._coarse if every else np.ascontiguousarray(self._coarse[rows])
            if len(self._subsets) >= SUBSETS:
                self._subsets.pop(next(iter(self._subsets)))
            self._subsets[key] = subset
        return subset


def _coarse_dim(embedder: Embedder) -> int | None:
    return COARSE_DIM if embedder.name.startswith("wordllama") else None


def _save(path: Path, vectors: Vectors) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npy")
    np.save(tmp, vectors)
    os.replace(tmp, path)
