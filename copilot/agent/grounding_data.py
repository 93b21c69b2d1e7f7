"""Labelled cases for calibrating grounding.SUPPORT, built from a pack's own data (never from evaluation sets).

* Passages: every sentence of a help article, with evidence = its own paragraph plus four paragraphs of other
  articles (supported), or = five paragraphs of other articles only (unsupported: a true-sounding policy
  sentence the turn's evidence does not back — what an invented fact looks like).
* Records: for each order of a store, "Order X is STATUS." / "It contains A, B." against its own JSON
  (supported) or against another order's JSON with a different status and items (unsupported).
Articles split by name (even / odd position) and stores (demo vs τ²) keep calibration and evaluation apart."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from copilot.agent.grounding import sentences

Case = tuple[str, tuple[str, ...], bool]
"""(sentence, evidence texts, supported?)."""
OTHERS = 4


@dataclass(frozen=True)
class Article:
    name: str
    paragraphs: tuple[str, ...]


def read_articles(directory: Path) -> list[Article]:
    found = []
    for path in sorted(directory.glob("*.md")):
        blocks = re.split(r"\n\s*\n", path.read_text(encoding="utf-8"))
        paragraphs = tuple(b.strip() for b in blocks if b.strip() and not b.lstrip().startswith("#"))
        if paragraphs:
            found.append(Article(path.stem, paragraphs))
    return found


def split(articles: Sequence[Article], part: int) -> list[Article]:
    """Every other article (part 0 or 1), so calibration and evaluation never share an article."""
    return [a for i, a in enumerate(articles) if i % 2 == part]


def passage_cases(articles: Sequence[Article], pool: Sequence[Article], seed: int = 0) -> Iterator[Case]:
    rng = random.Random(seed)
    for article in articles:
        foreign = [p for other in pool if other.name != article.name for p in other.paragraphs]
        for paragraph in article.paragraphs:
            for sentence in sentences(paragraph):
                others = tuple(rng.sample(foreign, min(OTHERS + 1, len(foreign))))
                yield sentence, (paragraph, *others[:OTHERS]), True
                yield sentence, others, False


def _items(order: Mapping[str, Any]) -> list[str]:
    return sorted({str(i.get("name")) for i in order.get("items", [])})


def record_cases(orders: Sequence[Mapping[str, Any]], seed: int = 0) -> Iterator[Case]:
    rng = random.Random(seed)
    for order in orders:
        other = rng.choice(orders)
        if other["status"] == order["status"] or set(_items(other)) & set(_items(order)):
            continue
        claims = [
            f"Order {order['order_id']} is {order['status']}.",
            f"It contains {', '.join(_items(order))}.",
        ]
        for claim in claims:
            yield claim, (json.dumps(order),), True
            yield claim, (json.dumps({**other, "order_id": order["order_id"]}),), False
