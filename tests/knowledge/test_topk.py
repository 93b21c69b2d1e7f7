import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from copilot.knowledge.embedder import WordLlamaEmbedder
from copilot.knowledge.topk import top_n
from copilot.knowledge.vectors import DenseIndex


@pytest.fixture(scope="module")
def wordllama() -> WordLlamaEmbedder:
    return WordLlamaEmbedder()


# Few distinct values, so ties at the cut are the common case.
scores = arrays(np.float32, st.integers(0, 300), elements=st.sampled_from([-1.5, 0.0, 0.25, 1.0, 2.0, 7.5]))


@given(scores, st.integers(0, 320))
def test_top_n_is_a_stable_full_sort_cut_at_n(values: np.ndarray, n: int) -> None:
    expected = np.lexsort((np.arange(len(values)), -values))[:n]
    assert top_n(values, n).tolist() == expected.tolist()


def test_each_audience_mask_searches_only_its_rows(wordllama: WordLlamaEmbedder) -> None:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((25_000, 256)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = DenseIndex(wordllama, vectors)
    exact = DenseIndex(wordllama, vectors, coarse_dim=None)
    masks = [rng.random(25_000) > share for share in (0.0, 0.25, 0.9)]
    for _ in range(2):  # the second round is served from the kept per-mask matrices
        for allowed in masks:
            for row in (11, 20_000):
                query = vectors[row] + 0.05 * rng.standard_normal(256).astype(np.float32)
                positions, cosines = index.search(query, 10, allowed)
                assert allowed[positions].all() and len(positions) == 10
                assert (np.diff(cosines) <= 0).all()
                if allowed[row]:
                    assert positions[0] == row == exact.search(query, 10, allowed)[0][0]
                else:
                    assert row not in positions
