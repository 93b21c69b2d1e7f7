"""The relevance gate drops passages that are not about the question (calibrated in evals/oos)."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.agent.retrieve import KnowledgeRetriever
from copilot.knowledge import KnowledgeBase
from copilot.knowledge.audience import PUBLIC_ONLY
from copilot.knowledge.embedder import WordLlamaEmbedder
from copilot.knowledge.relevance import RelevanceGate
from copilot.settings import PROJECT_ROOT

ARTICLES = PROJECT_ROOT / "tools" / "retail" / "articles"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.from_paths([ARTICLES], embedder=WordLlamaEmbedder())


@pytest.mark.parametrize(
    ("question", "doc"),
    [
        ("how long do refunds take", "refund-policy"),
        ("do you take paypal", "payment-methods"),
        ("I forgot my password", "password-recovery"),
    ],
)
def test_help_center_questions_keep_their_article(kb: KnowledgeBase, question: str, doc: str) -> None:
    passages = KnowledgeRetriever(kb).search(question, 5, PUBLIC_ONLY)
    assert doc in {p.id.split("#")[0] for p in passages}


@pytest.mark.parametrize(
    "utterance", ["tell me a joke", "who painted the mona lisa", "what's the weather in paris tomorrow"]
)
def test_out_of_scope_utterances_keep_no_passage(kb: KnowledgeBase, utterance: str) -> None:
    assert kb.search(utterance, 5)  # ranking alone always returns something…
    assert KnowledgeRetriever(kb).search(utterance, 5, PUBLIC_ONLY) == []  # …the gate keeps nothing


def test_without_a_dense_model_the_term_share_decides(tmp_path: Path) -> None:
    (tmp_path / "fees.md").write_text("# Fees\n\n## Late fees\nA late fee of $5 applies after 30 days.\n")
    kb = KnowledgeBase.from_paths([tmp_path])
    gate = RelevanceGate()
    assert gate.keep("what is the late fee", kb.search("what is the late fee", 3))
    assert gate.keep("fee for my zebra xylophone", kb.search("fee for my zebra xylophone", 3)) == []
