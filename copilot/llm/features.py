"""TF-IDF features over word uni/bi-grams and in-word character n-grams, as sparse rows (numpy only)."""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

_WORD = re.compile(r"[a-z]+|\d+")
_CHAR_SIZES = (2, 3, 4, 5)
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def normalize(text: str) -> str:
    """NFKC, lower case, and every number collapsed to one token so ids don't look like words."""
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"#?\w*\d[\w-]*", " 0 ", text)


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


def terms(text: str) -> Counter[str]:
    """Word unigrams and bigrams plus character n-grams inside padded words."""
    tokens = words(text)
    counts: Counter[str] = Counter(f"w:{t}" for t in tokens)
    counts.update(f"b:{a}_{b}" for a, b in itertools.pairwise(tokens))
    for token in tokens:
        padded = f"<{token}>"
        for size in _CHAR_SIZES:
            counts.update(f"c:{padded[i : i + size]}" for i in range(len(padded) - size + 1))
    return counts


@dataclass(frozen=True, slots=True)
class SparseRows:
    """Compressed sparse rows: row r holds indices[indptr[r]:indptr[r+1]] with values data[...]."""

    indptr: IntArray
    indices: IntArray
    data: FloatArray
    width: int

    @property
    def rows(self) -> int:
        return len(self.indptr) - 1

    def row_ids(self) -> IntArray:
        return np.repeat(np.arange(self.rows), np.diff(self.indptr))

    def dot(self, weights: FloatArray) -> FloatArray:
        """self @ weights for a dense (width, k) matrix."""
        out = np.zeros((self.rows, weights.shape[1]))
        filled = np.diff(self.indptr) > 0
        if self.data.size:
            products = self.data[:, None] * weights[self.indices]
            out[filled] = np.add.reduceat(products, self.indptr[:-1][filled], axis=0)
        return out

    def transposed(self) -> SparseRows:
        """The same matrix with rows and columns swapped (width rows of self.rows columns)."""
        order = np.argsort(self.indices, kind="stable")
        counts = np.bincount(self.indices, minlength=self.width)
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return SparseRows(indptr, self.row_ids()[order], self.data[order], self.rows)


class Tfidf:
    """Fitted vocabulary + idf; `transform` gives L2-normalised sublinear tf-idf rows. The vocabulary is the
    terms of `texts`; how rare a term is (idf) is counted over `texts` and `background` documents (e.g. a help
    center's passages), so a few hundred short examples do not make a word common in the domain look rare."""

    def __init__(self, texts: Sequence[str], min_df: int = 1, background: Sequence[str] = ()) -> None:
        df: Counter[str] = Counter()
        for text in texts:
            df.update(terms(text).keys())
        kept = sorted(term for term, count in df.items() if count >= min_df)
        for text in background:
            df.update(terms(text).keys())
        self.vocab = {term: i for i, term in enumerate(kept)}
        n = len(texts) + len(background)
        self.idf = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in kept])

    @property
    def width(self) -> int:
        return len(self.vocab)

    def transform(self, texts: Iterable[str]) -> SparseRows:
        indptr, indices, data = [0], [], []
        for text in texts:
            row = {self.vocab[t]: c for t, c in terms(text).items() if t in self.vocab}
            idx = np.fromiter(row.keys(), dtype=np.int64, count=len(row))
            values = (1.0 + np.log(np.fromiter(row.values(), dtype=np.float64, count=len(row)))) * self.idf[
                idx
            ]
            norm = float(np.linalg.norm(values)) or 1.0
            indices.append(idx)
            data.append(values / norm)
            indptr.append(indptr[-1] + len(row))
        return SparseRows(
            np.array(indptr, dtype=np.int64),
            np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64),
            np.concatenate(data) if data else np.zeros(0),
            self.width,
        )
