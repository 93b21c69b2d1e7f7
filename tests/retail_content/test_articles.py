"""The demo store's help-center articles: well-formed, chunkable by section, stable ids, safe contacts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import ARTICLES_DIR

KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
REQUIRED_TOPICS = {
    "shipping-options",
    "delivery-times",
    "tracking-an-order",
    "order-statuses",
    "cancelling-an-order",
    "cancellation-fees",
    "changing-a-pending-order",
    "returns",
    "exchanges",
    "refund-tracking",
    "refund-policy",
    "payment-methods",
    "payment-issues",
    "gift-cards",
    "invoices-and-receipts",
    "create-account",
    "registration-problems",
    "edit-account",
    "password-recovery",
    "switch-accounts",
    "delete-account",
    "privacy-and-data",
    "newsletter",
    "product-reviews",
    "complaints",
    "contact-support",
}


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    sections: dict[str, str]


def parse(path: Path) -> Article:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# "), f"{path.name}: first line must be '# Title'"
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines[1:]:
        if line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
        elif current is not None:
            current.append(line)
        else:
            assert not line.strip(), f"{path.name}: text before the first section: {line!r}"
    return Article(path.stem, lines[0][2:].strip(), {k: "\n".join(v).strip() for k, v in sections.items()})


ARTICLE_PATHS = sorted(ARTICLES_DIR.glob("*.md"))


def test_there_are_enough_articles_covering_the_required_topics() -> None:
    ids = {path.stem for path in ARTICLE_PATHS}
    assert len(ids) >= 18
    assert ids >= REQUIRED_TOPICS, f"missing topics: {sorted(REQUIRED_TOPICS - ids)}"


@pytest.mark.parametrize("path", ARTICLE_PATHS, ids=lambda p: p.stem)
def test_article_parses_into_titled_sections_of_passage_size(path: Path) -> None:
    article = parse(path)
    assert KEBAB.match(article.id), f"{path.name}: file name must be a kebab-case id"
    assert article.title and not article.title.startswith("#")
    assert len(article.sections) >= 2
    for heading, body in article.sections.items():
        words = len(body.split())
        assert 60 <= words <= 200, f"{path.name} § {heading!r}: {words} words (want 60-200)"
        assert "#" * 3 not in body, f"{path.name} § {heading!r}: no deeper headings, sections are the chunks"


@pytest.mark.parametrize("path", ARTICLE_PATHS, ids=lambda p: p.stem)
def test_article_uses_only_example_contacts(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for email in re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text):
        assert email.endswith("@example.com"), f"{path.name}: {email} is not an example.com address"
    phone = re.search(r"\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}|\+\d[\d ().-]{7,}", text)
    assert phone is None, f"{path.name}: looks like a real phone number: {phone.group(0) if phone else ''}"


def test_titles_and_ids_are_unique() -> None:
    articles = [parse(path) for path in ARTICLE_PATHS]
    assert len({a.id for a in articles}) == len(articles)
    assert len({a.title for a in articles}) == len(articles)


def test_articles_state_the_store_rules_the_tools_enforce() -> None:
    """The knowledge base must agree with the pack's business rules (τ² retail policy)."""
    text = {path.stem: path.read_text(encoding="utf-8").lower() for path in ARTICLE_PATHS}
    assert "only pending orders can be cancelled" in text["cancelling-an-order"]
    assert "no longer needed" in text["cancelling-an-order"]
    assert "by mistake" in text["cancelling-an-order"]
    assert "does not charge any cancellation fee" in text["cancellation-fees"]
    assert "5 to 7 business days" in text["refund-policy"]
    assert "gift-card refunds are immediate" in text["refund-policy"]
    assert "only once per order" in text["changing-a-pending-order"]
    assert "once their order has been delivered" in text["returns"]
    assert "same product" in text["exchanges"]
