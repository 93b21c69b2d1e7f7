"""Argument extraction: pull tool arguments out of customer utterances (newest first) and the principal."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

ORDER_ID = re.compile(r"#?\s?\b[Ww](\d{7})\b")
ITEM_ID = re.compile(r"(?<![\w#])(\d{10})(?!\d)")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PAYMENT = re.compile(r"\b((?:gift_card|credit_card|paypal)_\d+)\b", re.IGNORECASE)
USER_ID = re.compile(r"\b([a-z]+_[a-z]+_\d{3,5})\b")
ZIP = re.compile(r"(?<![\d-])(\d{5})(?![\d-])")
NAME = re.compile(
    r"\b(?:my name is|i am|i'm|this is|name:|named|account of|customer)\s+([A-Z][a-zA-Z'-]+)\s+([A-Z][a-zA-Z'-]+)",
    re.IGNORECASE,
)
ADDRESS = re.compile(
    r"(?P<address1>\d+\s+[\w .'-]+?),\s*"
    r"(?:(?P<address2>(?:apt|apartment|suite|unit|ste|#|floor)[\w .#-]*?),\s*)?"
    r"(?P<city>[A-Za-z][A-Za-z .'-]+?),\s*(?P<state>[A-Z]{2}),?\s+(?P<zip>\d{5})"
    r"(?:,?\s*(?P<country>USA|United States|US)\b)?",
    re.IGNORECASE,
)
MISTAKE = re.compile(
    r"\b(by mistake|mistaken(ly)?|by accident|accident(al(ly)?)?|wrong (item|order|one))\b", re.I
)
NOT_NEEDED = re.compile(
    r"\b(no longer need(ed)?|(do not|don'?t|dont) (need|want)|not needed|changed my mind|not (needed|necessary)"
    r"|no need)\b",
    re.IGNORECASE,
)
CANCEL_REASONS = ("no longer needed", "ordered by mistake")
ARITHMETIC = re.compile(r"[(\d][\d.,\s()]*(?:[-+*/x×][\d.,\s()]+)+")
"""Numbers joined by operators (e.g. "(45.5 + 12) * 2"); the calculate tool's expression."""


def order_id(text: str) -> str | None:
    match = ORDER_ID.search(text)
    return f"#W{match.group(1)}" if match else None


def expression(text: str) -> str | None:
    """The longest arithmetic expression in `text`, thousands separators dropped, × and x as *."""
    found = [m.group(0) for m in ARITHMETIC.finditer(text)]
    if not found:
        return None
    best = max(found, key=len).replace(",", "").replace("×", "*").replace("x", "*").strip()
    return best if best.count("(") == best.count(")") else best.strip("()")


def cancel_reason(text: str) -> str | None:
    if MISTAKE.search(text):
        return "ordered by mistake"
    if NOT_NEEDED.search(text):
        return "no longer needed"
    return None


def item_ids(text: str) -> tuple[list[str], list[str]]:
    """Item ids to change and, after a connector ('for', 'to', 'with', 'into'), the new item ids."""
    first = ITEM_ID.search(text)
    if not first:
        return [], []
    rest = re.split(r"\b(?:for|to|with|into)\b", text[first.end() :], maxsplit=1, flags=re.IGNORECASE)
    old = [first.group(1), *ITEM_ID.findall(rest[0])]
    new = ITEM_ID.findall(rest[1]) if len(rest) > 1 else []
    return old, new


def address(text: str) -> dict[str, str] | None:
    match = ADDRESS.search(text)
    if not match:
        return None
    parts = {k: (v or "").strip() for k, v in match.groupdict().items()}
    country = parts["country"].upper()
    parts["country"] = "USA" if country in ("", "US", "UNITED STATES") else parts["country"]
    parts["state"] = parts["state"].upper()
    return parts


def name(text: str) -> tuple[str, str] | None:
    match = NAME.search(text)
    return (match.group(1).capitalize(), match.group(2).capitalize()) if match else None


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    if match is None:
        return None
    return match.group(1) if pattern.groups else match.group(0)


def _search(texts: Sequence[str], find: Callable[[str], Any]) -> Any:
    for text in texts:
        value = find(text)
        if value:
            return value
    return None


def extract_arguments(
    properties: Mapping[str, Any], texts: Sequence[str], principal: Mapping[str, str], summary: str
) -> dict[str, Any]:
    """Values for the schema's properties found in `texts` (newest first), the principal, or the summary."""
    found: dict[str, Any] = {}
    addr = _search(texts, address)
    who = _search(texts, name)
    old_new: tuple[list[str], list[str]] = _search(
        texts, lambda t: item_ids(t) if item_ids(t)[0] else None
    ) or ([], [])
    finders: dict[str, Callable[[], Any]] = {
        "order_id": lambda: _search(texts, order_id),
        "reason": lambda: _search(texts, cancel_reason),
        "email": lambda: _search(texts, lambda t: _first(EMAIL, t)),
        "payment_method_id": lambda: _search(texts, lambda t: _first(PAYMENT, t)),
        "user_id": lambda: _user_id(texts, principal),
        "item_ids": lambda: old_new[0] or None,
        "new_item_ids": lambda: old_new[1] or None,
        "item_id": lambda: _search(texts, lambda t: _first(ITEM_ID, t)),
        "product_id": lambda: _search(texts, lambda t: _first(ITEM_ID, t)),
        "first_name": lambda: who[0] if who else None,
        "last_name": lambda: who[1] if who else None,
        "summary": lambda: summary,
        "expression": lambda: _search(texts, expression),
    }
    for key in properties:
        if key in finders:
            value = finders[key]()
        elif addr and key in addr:
            value = addr[key] if addr[key] or key == "address2" else None
        elif key == "zip":
            value = _search(texts, lambda t: _first(ZIP, t))
        else:
            value = None
        if value is not None:
            found[key] = value
    return found


def _user_id(texts: Sequence[str], principal: Mapping[str, str]) -> str | None:
    if principal.get("role") in (None, "customer", "guest"):
        return principal.get("user_id")
    found: str | None = _search(texts, lambda t: _first(USER_ID, t))
    return found
