"""Exchanges in the customer's words: the new item is the variant of the same product whose option values the
customer asked for ("for the red one", "in size L"), matched against the product's own variants (no fixed
vocabulary); an option the product lacks, an out-of-stock one or a choice left open becomes a question."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from copilot.llm.answer import stem

OPTION_QUESTION = "which option would you like instead"
"""Every question of this module contains it (a short reply such as "the red one" answers it); each is one
sentence ending in "?" (a question, not a claim to ground)."""


@dataclass(frozen=True)
class Choice:
    """The new item id, or a question for the customer."""

    item_id: str | None = None
    question: str | None = None


def _variants(product: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = product.get("variants", {})
    values = raw.values() if isinstance(raw, Mapping) else raw
    return [v for v in values if isinstance(v, Mapping) and isinstance(v.get("options"), Mapping)]


def _options(variant: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in dict(variant.get("options", {})).items()}


_TOKEN = re.compile(r"(?<![\w'’])[a-z0-9]+")
"""Every word and number, single letters and digits included (sizes "M", "9"), but not the "m" of "I'm"."""


def _words(text: str) -> set[str]:
    return {stem(token) for token in _TOKEN.findall(text.lower())}


def _named(values: set[str], said: set[str]) -> set[str]:
    """The values whose words were all said, minus those contained in another named value ("ear" in "over-ear")."""
    hits = {v for v in values if _words(v) and _words(v) <= said}
    return {v for v in hits if not any(_words(v) < _words(o) for o in hits)}


def requested(
    product: Mapping[str, Any], current: Mapping[str, str], texts: Sequence[str]
) -> dict[str, set[str]]:
    """Option → the values other than the current one the customer asked for, from the newest text naming any."""
    by_key: dict[str, set[str]] = {}
    for variant in _variants(product):
        for key, value in _options(variant).items():
            by_key.setdefault(key, set()).add(value)
    wanted: dict[str, set[str]] = {}
    for text in texts:  # newest first
        said = _words(text)
        for key, values in by_key.items():
            new = _named(values, said) - {current.get(key, "")}
            if new and key not in wanted:
                wanted[key] = new
    return wanted


def _label(variant: Mapping[str, Any]) -> str:
    return ", ".join(_options(variant).values())


def choose(product: Mapping[str, Any], line: Mapping[str, Any], texts: Sequence[str]) -> Choice:
    """The available variant of `product` (not `line`'s own) with the requested values, the closest to `line`
    in the options not mentioned; otherwise the question saying what the product does come in."""
    current = {str(k): str(v) for k, v in dict(line.get("options", {})).items()}
    others = [v for v in _variants(product) if str(v.get("item_id")) != str(line.get("item_id"))]
    available = [v for v in others if v.get("available") is True]
    name = str(line.get("name") or product.get("name") or "this item")

    def ask(lead: str, choices: Sequence[Mapping[str, Any]] = available) -> Choice:
        listed = "; ".join(_label(v) for v in choices)
        asking = f"{lead} — {OPTION_QUESTION}" if lead else OPTION_QUESTION.capitalize()
        return Choice(question=f"{asking}: {name} in {listed}?")

    if not available:
        return Choice(
            question=f"{name} has no other option in stock right now — shall I connect you with a human?"
        )
    wanted = requested(product, current, texts)
    if not wanted:
        return ask("")
    open_ = {key: values for key, values in wanted.items() if len(values) > 1}
    if open_:
        key, values = next(iter(open_.items()))
        return ask(f"You mentioned {' and '.join(sorted(values))} for the {key}")
    target = {key: next(iter(values)) for key, values in wanted.items()}
    asked = ", ".join(target.values())
    matching = [v for v in others if all(_options(v).get(k) == val for k, val in target.items())]
    if not matching:
        return ask(f"{name} doesn't come in {asked}")
    in_stock = [v for v in matching if v.get("available") is True]
    if not in_stock:
        return ask(f"{name} in {asked} is out of stock")
    kept = [sum(_options(v).get(k) == val for k, val in current.items() if k not in target) for v in in_stock]
    best = [v for v, score in zip(in_stock, kept, strict=True) if score == max(kept)]
    if len(best) > 1:
        return ask(f"{name} in {asked} comes in several versions", best)
    return Choice(item_id=str(best[0]["item_id"]))


def variant(product: Mapping[str, Any], item_id: str) -> Mapping[str, Any] | None:
    return next((v for v in _variants(product) if str(v.get("item_id")) == item_id), None)
