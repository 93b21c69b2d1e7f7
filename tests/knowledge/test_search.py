"""BM25 search ranks the right chunk, the index persists by content hash, citations stay within retrieval."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.knowledge import KnowledgeBase, check_citations, extract_citations, load_path
from copilot.knowledge.text import tokenize

ARTICLES = {
    "returns-policy": """# Returns and refunds
## Return window
Delivered items can be returned within 30 days for a refund to the original payment method.
## Refund timing
Refunds to credit cards take 5 to 7 business days; gift card refunds are immediate.
""",
    "shipping": """# Shipping
## Delivery times
Standard shipping takes 5 business days; express shipping takes 2 days.
## Tracking a package
Track your package with the tracking number from the confirmation email.
""",
    "account": """# Your account
## Changing your email address
Update the email address on your profile page; we send a verification link.
## Deleting your account
Account deletion removes your personal data within 30 days.
""",
}


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / f"{name}.md").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("how long until my refund shows up on my credit card?", "returns-policy#2"),
        ("where is my package? tracking number", "shipping#2"),
        ("I changed my e-mail, how do I update the email on my account", "account#1"),
        ("can I still return an item I received three weeks ago", "returns-policy#1"),
    ],
)
def test_search_ranks_the_right_chunk_first(articles: Path, query: str, expected: str) -> None:
    hits = KnowledgeBase.from_paths([articles]).search(query, k=3)
    assert hits[0].chunk.id == expected
    assert hits == sorted(hits, key=lambda h: -h.score)


def test_search_without_matching_terms_returns_nothing(articles: Path) -> None:
    kb = KnowledgeBase(load_path(articles))
    assert kb.search("the and of", k=5) == []
    assert kb.search("zebra xylophone", k=5) == []
    assert KnowledgeBase([]).search("refund") == []


def test_tokenizer_drops_stopwords_and_stems() -> None:
    assert tokenize("The refunds were REFUNDED; refunding charges") == [
        "refund",
        "refund",
        "refund",
        "charg",
    ]


def test_index_persists_and_reloads_by_content_hash(articles: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    built = KnowledgeBase(load_path(articles), index_dir=index_dir)
    assert not built.loaded_from_disk
    assert (index_dir / built.hash).is_dir()
    reloaded = KnowledgeBase(load_path(articles), index_dir=index_dir)
    assert reloaded.loaded_from_disk
    query = "refund to credit card business days"
    assert reloaded.search(query) == built.search(query)

    (articles / "shipping.md").write_text("# Shipping\n## Pickup\nCollect parcels in store.\n", "utf-8")
    changed = KnowledgeBase(load_path(articles), index_dir=index_dir)
    assert not changed.loaded_from_disk
    assert changed.hash != built.hash
    assert changed.search("collect parcels in store")[0].chunk.id == "shipping#1"


def test_citations_extracted_and_checked_against_retrieval() -> None:
    answer = (
        "Refunds take 5-7 days [returns-policy#2]. Track it online [shipping#2] "
        "(see [returns-policy#2] again; [not a citation] and [x])."
    )
    cited = extract_citations(answer)
    assert cited == ["returns-policy#2", "shipping#2"]
    assert check_citations(cited, ["returns-policy#2", "shipping#2", "account#1"]) == []
    assert check_citations(cited, ["returns-policy#2"]) == ["shipping#2"]
    assert check_citations(["doc_bank_accounts_(general)_042#3"], []) == ["doc_bank_accounts_(general)_042#3"]
    assert extract_citations("see [doc_bank_accounts_(general)_042#3]") == [
        "doc_bank_accounts_(general)_042#3"
    ]
