"""The offline answer's embedding cache: rows come back equal to a fresh embedding of the same texts, in the
caller's order (repeats and misses mixed), and the cache stays within its size."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from copilot.llm.answer import _embedder, _Vectors

WORDS = ["refund", "card", "shipping", "order", "return", "days", "free", "label", "the", "within"]
texts = st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join), max_size=12)


@settings(max_examples=40, deadline=None)
@given(batches=st.lists(texts, min_size=1, max_size=4))
def test_cached_rows_equal_fresh_embeddings_in_order(batches: list[list[str]]) -> None:
    vectors = _Vectors(size=8)
    for batch in batches:
        got = vectors(batch)
        assert got.shape == (len(batch), 256)
        if batch:
            assert np.array_equal(got, _embedder().embed(batch))
        assert len(vectors._rows) <= max(8, len(set(batch)))
