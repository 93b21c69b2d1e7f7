"""Returns and exchanges in the customer's words: items chosen by name from the order's own list (the copilot
fills the item ids) and the refund destination from their saved methods ("to my gift card", "back to the
original card"), using tool results already in the conversation."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from copilot.llm import variants
from copilot.llm.answer import content_words
from copilot.llm.summaries import method_label

ITEM_TOOLS = frozenset(
    {"return_delivered_order_items", "exchange_delivered_order_items", "modify_pending_order_items"}
)
ITEMS_QUESTION = "Which items would you like to {verb}? Order {order} has: {items}."
REFUND_QUESTION = (
    "Where should the money go: back to the original payment method ({original}), or to a gift card?"
)
SETTLE_QUESTION = "Which saved payment method should settle the price difference ({difference}): {methods}?"
_ALL = re.compile(r"\b(all|every(thing)?|whole order|both)\b", re.IGNORECASE)
_GIFT = re.compile(r"\bgift\s*card\b|\bstore credit\b", re.IGNORECASE)
_ORIGINAL = re.compile(
    r"\b(original|same (card|method|way)|back to (my|the) (card|account)|how i paid|where it came from)\b",
    re.IGNORECASE,
)
_VERBS = {
    "return_delivered_order_items": "return",
    "exchange_delivered_order_items": "exchange",
    "modify_pending_order_items": "change",
}


def _results(turns: Sequence[BaseMessage], tool: str) -> list[Any]:
    out = []
    for message in turns:
        if isinstance(message, ToolMessage) and message.name == tool:
            try:
                body = json.loads(message.text)
            except ValueError:
                continue
            out.append(body.get("result") if isinstance(body, dict) and body.get("ok") else None)
    return out


def order_in(turns: Sequence[BaseMessage], order_id: str) -> Mapping[str, Any] | None:
    """The newest successful get_order_details result for `order_id` in the conversation."""
    for result in reversed(_results(turns, "get_order_details")):
        if isinstance(result, Mapping) and result.get("order_id") == order_id:
            return result
    return None


def looked_up(turns: Sequence[BaseMessage], tool: str) -> bool:
    """`tool` already ran in this conversation (whatever its outcome): never look the same thing up twice."""
    return bool(_results(turns, tool))


def user_in(turns: Sequence[BaseMessage]) -> Mapping[str, Any] | None:
    for result in reversed(_results(turns, "get_user_details")):
        if isinstance(result, Mapping) and "payment_methods" in result:
            return result
    return None


def label(line: Mapping[str, Any]) -> str:
    options = ", ".join(str(v) for v in dict(line.get("options", {})).values())
    return f"{line.get('name', 'item')} ({options})" if options else str(line.get("name", "item"))


def chosen_items(order: Mapping[str, Any], texts: Sequence[str]) -> list[str]:
    """Item ids of the order lines the customer named (by product name, narrowed by options if needed)."""
    lines = [line for line in order.get("items", []) if isinstance(line, Mapping)]
    said = set().union(*(content_words(t) for t in texts)) if texts else set()
    if texts and _ALL.search(texts[0]):
        return [str(line["item_id"]) for line in lines]
    named = [line for line in lines if content_words(str(line.get("name", ""))) & said]
    by_options = [
        line
        for line in named
        if content_words(" ".join(map(str, dict(line.get("options", {})).values()))) & said
    ]
    return [str(line["item_id"]) for line in (by_options or named)]


def ask_items(tool: str, order: Mapping[str, Any]) -> str:
    items = [label(line) for line in order.get("items", []) if isinstance(line, Mapping)]
    return ITEMS_QUESTION.format(
        verb=_VERBS.get(tool, "change"), order=order.get("order_id"), items="; ".join(items)
    )


def original_method(order: Mapping[str, Any]) -> str | None:
    history = [p for p in order.get("payment_history", []) if isinstance(p, Mapping)]
    payments = [p for p in history if p.get("transaction_type") == "payment"]
    return str(payments[0]["payment_method_id"]) if payments else None


def gift_cards(user: Mapping[str, Any]) -> list[str]:
    methods = user.get("payment_methods", {})
    values = methods.values() if isinstance(methods, Mapping) else methods
    return [str(m["id"]) for m in values if isinstance(m, Mapping) and m.get("source") == "gift_card"]


def _said(pattern: re.Pattern[str], other: re.Pattern[str], texts: Sequence[str]) -> bool:
    """The newest of `texts` that names either destination names this one."""
    for text in texts:
        if pattern.search(text):
            return True
        if other.search(text):
            return False
    return False


def wants_gift_card(texts: Sequence[str]) -> bool:
    return _said(_GIFT, _ORIGINAL, texts)


def wants_original(texts: Sequence[str]) -> bool:
    return _said(_ORIGINAL, _GIFT, texts)


def asked_about_items_or_refund(question: str) -> bool:
    """Our question was one of these two (so a short reply such as "the headphones" answers it)."""
    starts = ("Which items would you like to", "Where should the money go", SETTLE_QUESTION[:30])
    return question.startswith(starts) or variants.OPTION_QUESTION in question.lower()


ORDER_TOOL, ACCOUNT_TOOL, PRODUCT_TOOL = "get_order_details", "get_user_details", "get_product_details"
EXCHANGE_TOOL = "exchange_delivered_order_items"


@dataclass
class Step:
    """An item write being prepared: the conversation, the tool, its required arguments, what was filled
    (completed in place), the customer's recent texts (newest first) and the tools bound."""

    turns: Sequence[BaseMessage]
    tool: str
    required: set[str]
    args: dict[str, Any]
    texts: Sequence[str]
    bound: set[str]


@dataclass(frozen=True)
class Need:
    """What comes next: a lookup (tool, arguments) or a question for the customer."""

    lookup: tuple[str, dict[str, Any]] | None = None
    question: str | None = None


def _asked(turns: Sequence[BaseMessage], tool: str, key: str, value: str) -> bool:
    """We already looked this record up (whatever came back): never loop on a lookup."""
    return any(
        isinstance(m, AIMessage)
        and any(c["name"] == tool and c["args"].get(key) == value for c in m.tool_calls)
        for m in turns
    )


def product_in(turns: Sequence[BaseMessage], product_id: str) -> Mapping[str, Any] | None:
    """The newest successful get_product_details result for `product_id` in the conversation."""
    for result in reversed(_results(turns, PRODUCT_TOOL)):
        if isinstance(result, Mapping) and str(result.get("product_id")) == product_id:
            return result
    return None


def fill_from_order(step: Step, user_id: str) -> Need | None:
    """Item ids from the items the customer named, the payment method from what they said (the order looked
    up first if needed); None when nothing more is needed from here (or the lookup failed: ids are asked)."""
    if not {"item_ids", "new_item_ids", "payment_method_id"} & (step.required - set(step.args)):
        return None
    order_id = str(step.args["order_id"])
    order = order_in(step.turns, order_id)
    if order is None:
        if ORDER_TOOL in step.bound and not _asked(step.turns, ORDER_TOOL, "order_id", order_id):
            return Need(lookup=(ORDER_TOOL, {"order_id": order_id}))
        return None
    if "item_ids" in step.required and "item_ids" not in step.args:
        chosen = chosen_items(order, step.texts)
        if not chosen:
            return Need(question=ask_items(step.tool, order))
        step.args["item_ids"] = chosen
    if "new_item_ids" in step.required and "new_item_ids" not in step.args and "item_ids" in step.args:
        need = _new_items(step, order)
        if need is not None or "new_item_ids" not in step.args:
            return need
    if "payment_method_id" in step.required and "payment_method_id" not in step.args:
        settle = step.tool == EXCHANGE_TOOL
        return _settle_with(step, order, user_id) if settle else _refund_to(step, order, user_id)
    return None


def _lines(order: Mapping[str, Any], item_ids: Sequence[str]) -> list[Mapping[str, Any]]:
    by_id = {str(line.get("item_id")): line for line in order.get("items", []) if isinstance(line, Mapping)}
    return [by_id[i] for i in item_ids if i in by_id]


def _new_items(step: Step, order: Mapping[str, Any]) -> Need | None:
    """For each item to exchange, the variant of its product with the options the customer asked for (the
    product looked up first); None with nothing filled when an id is not in the order (the id is asked)."""
    item_ids = [str(i) for i in step.args["item_ids"]]
    lines = _lines(order, item_ids)
    if len(lines) != len(item_ids):
        return None
    new: list[str] = []
    for line in lines:
        product_id = str(line.get("product_id"))
        product = product_in(step.turns, product_id)
        if product is None:
            if PRODUCT_TOOL in step.bound and not _asked(step.turns, PRODUCT_TOOL, "product_id", product_id):
                return Need(lookup=(PRODUCT_TOOL, {"product_id": product_id}))
            return None
        choice = variants.choose(product, line, step.texts)
        if choice.item_id is None:
            return Need(question=choice.question)
        new.append(choice.item_id)
    step.args["new_item_ids"] = new
    return None


def _difference(step: Step, order: Mapping[str, Any]) -> float:
    """Σ new price − old price of the exchange being prepared (0 where a price is unknown)."""
    total = 0.0
    pairs = zip(_lines(order, step.args.get("item_ids", [])), step.args.get("new_item_ids", []), strict=False)
    for line, new_id in pairs:
        product = product_in(step.turns, str(line.get("product_id"))) or {}
        found = variants.variant(product, str(new_id))
        if found is not None:
            total += float(found.get("price", 0)) - float(line.get("price", 0))
    return total


def saved_methods(user: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    methods = user.get("payment_methods", {})
    values = methods.values() if isinstance(methods, Mapping) else methods
    return [m for m in values if isinstance(m, Mapping) and "id" in m]


def _method_words(method: Mapping[str, Any]) -> set[str]:
    """What names this method ("gift card", "paypal", "visa", "4242"), not the word "card" alone."""
    words = content_words(str(method.get("source", "")).replace("_", " ")) - content_words("card")
    return words | content_words(f"{method.get('brand', '')} {method.get('last_four', '')}")


def _named_methods(methods: Sequence[Mapping[str, Any]], texts: Sequence[str]) -> list[Mapping[str, Any]]:
    for text in texts:  # newest first
        said = content_words(text)
        hits = [m for m in methods if _method_words(m) & said]
        if hits:
            return hits
    return []


def _settle_with(step: Step, order: Mapping[str, Any], user_id: str) -> Need | None:
    """The saved method that settles an exchange's price difference: the one named (or the only plausible
    one: a gift card must cover what is to pay); several plausible → the customer chooses among them."""
    user = user_in(step.turns)
    if user is None:
        if ACCOUNT_TOOL in step.bound and not looked_up(step.turns, ACCOUNT_TOOL):
            return Need(lookup=(ACCOUNT_TOOL, {"user_id": user_id}))
        return None
    diff = _difference(step, order)
    plausible = [
        m for m in saved_methods(user) if m.get("source") != "gift_card" or float(m.get("balance", 0)) >= diff
    ]
    original = original_method(order)
    if wants_original(step.texts) and any(m["id"] == original for m in plausible):
        named = [m for m in plausible if m["id"] == original]
    else:
        named = _named_methods(plausible, step.texts)
    pick = named if len(named) == 1 else plausible if len(plausible) == 1 and not named else []
    if pick:
        step.args["payment_method_id"] = str(pick[0]["id"])
        return None
    if not plausible:
        return None  # the usual question for the id follows
    owed = f"${abs(diff):,.2f} {'to pay' if diff > 0 else 'back to you'}" if diff else "none"
    listed = "; ".join(method_label(m) for m in (named or plausible))
    return Need(question=SETTLE_QUESTION.format(difference=owed, methods=listed))


def _refund_to(step: Step, order: Mapping[str, Any], user_id: str) -> Need | None:
    original = original_method(order)
    if wants_original(step.texts) and original:
        step.args["payment_method_id"] = original
        return None
    if wants_gift_card(step.texts):
        user = user_in(step.turns)
        if user is None and ACCOUNT_TOOL in step.bound and not looked_up(step.turns, ACCOUNT_TOOL):
            return Need(lookup=(ACCOUNT_TOOL, {"user_id": user_id}))
        cards = gift_cards(user) if user else []
        if len(cards) == 1:
            step.args["payment_method_id"] = cards[0]
        return None  # several or none: the usual question for the id follows
    shown = (original or "the card you paid with").replace("_", " ")
    return Need(question=REFUND_QUESTION.format(original=shown))
