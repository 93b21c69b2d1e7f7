"""Hybrid retrieval: BM25 and WordLlama vectors fused by reciprocal rank; vectors saved once and reused."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from copilot.errors import CopilotError
from copilot.knowledge import KnowledgeBase, load_path
from copilot.knowledge.audience import EVERY_AUDIENCE, PUBLIC_ONLY
from copilot.knowledge.embedder import Vectors, WordLlamaEmbedder, make_embedder
from copilot.knowledge.vectors import DenseIndex


class CountingEmbedder:
    """The real WordLlama embedder, counting how many texts it was asked to embed."""

    def __init__(self, inner: WordLlamaEmbedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.texts = 0

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.texts += len(texts)
        return self.inner.embed(texts)


@pytest.fixture(scope="module")
def wordllama() -> WordLlamaEmbedder:
    return WordLlamaEmbedder()


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "returns.md").write_text(
        "# Returns and refunds\n\n## Refund timing\nRefunds reach your card in 5 to 7 business days.\n"
        "\n## Return window\nReturn delivered items within 30 days.\n"
    )
    (folder / "shipping.md").write_text(
        "# Shipping\n\n## Free delivery\nOrders above $50 ship without a delivery charge.\n"
    )
    (folder / "staff.md").write_text(
        "---\naudience: internal\n---\n# Refund overrides\n\n## When\nAgents may refund money back early.\n"
    )
    return folder


def test_vectors_are_saved_once_and_reused(
    articles: Path, tmp_path: Path, wordllama: WordLlamaEmbedder
) -> None:
    first = CountingEmbedder(wordllama)
    built = KnowledgeBase(load_path(articles), index_dir=tmp_path / "index", embedder=first)
    assert first.texts == len(built)
    again = CountingEmbedder(wordllama)
    reloaded = KnowledgeBase(load_path(articles), index_dir=tmp_path / "index", embedder=again)
    query = "when do I get my money back"
    assert reloaded.loaded_from_disk and again.texts == 0  # no chunk re-embedded at start-up
    hits = reloaded.search(query)
    assert again.texts == 1  # only the query
    assert hits == built.search(query) and hits[0].chunk.id == "returns#1"


def test_dense_finds_a_paraphrase_bm25_misses(articles: Path, wordllama: WordLlamaEmbedder) -> None:
    chunks = load_path(articles)
    assert KnowledgeBase(chunks).search("do I pay for postage") == []
    hits = KnowledgeBase(chunks, embedder=wordllama).search("do I pay for postage", 2)
    assert hits[0].chunk.doc_id == "shipping"
    assert hits[0].dense is not None and hits[0].doc_score >= hits[0].score > 0


def test_dense_retrieval_respects_audiences(articles: Path, wordllama: WordLlamaEmbedder) -> None:
    kb = KnowledgeBase(load_path(articles), embedder=wordllama)
    query = "can an agent refund money back early"
    assert all(h.chunk.audience == "public" for h in kb.search(query, 10, PUBLIC_ONLY))
    assert kb.search(query, 1, EVERY_AUDIENCE)[0].chunk.doc_id == "staff"


def test_coarse_then_full_search_equals_exact_search(wordllama: WordLlamaEmbedder) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((30_000, 256)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    query = vectors[123] + 0.05 * rng.standard_normal(256).astype(np.float32)
    allowed = rng.random(30_000) > 0.3
    allowed[123] = True
    coarse = DenseIndex(wordllama, vectors)
    exact = DenseIndex(wordllama, vectors, coarse_dim=None)
    (c_pos, _), (e_pos, _) = coarse.search(query, 5, allowed), exact.search(query, 5, allowed)
    assert c_pos[0] == e_pos[0] == 123
    assert allowed[c_pos].all() and allowed[e_pos].all()


def test_an_unknown_embedder_is_a_configuration_error(tmp_path: Path) -> None:
    assert make_embedder("none") is None
    with pytest.raises(CopilotError, match="use 'wordllama', 'none'"):
        make_embedder("openai")
    with pytest.raises(CopilotError, match="not a local model directory"):
        make_embedder(f"st:{tmp_path / 'missing'}")
