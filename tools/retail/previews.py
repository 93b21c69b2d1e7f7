"""Plain-sentence previews of the retail write tools (each spec's `explain`): what changes, the amounts,
where the money goes and when. They read the readable facts the handlers record in a dry run."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .handlers_common import dollars

Facts = Mapping[str, Any]
EMAIL = "You'll get an email with instructions for sending the items back (no return fee)."


def _listing(items: Sequence[str]) -> str:
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _settle(facts: Facts, what: str) -> str:
    """A price difference: charged, refunded, or none."""
    diff = float(facts.get("price_difference", 0))
    if diff > 0:
        return f"Charge the {what} of {dollars(diff)} to the {facts['method']}."
    if diff < 0:
        return f"Refund the {what} of {dollars(diff)} to the {facts['method']}, {facts['refund_when']}."
    return "There is no price difference, so nothing is charged or refunded."


def cancel(args: Facts, facts: Facts) -> list[str]:
    reason = f" (reason: {facts['reason']})" if facts.get("reason") else ""
    lines = [f"Cancel order {args['order_id']} with {_listing(facts['items'])}{reason}."]
    for refund in facts.get("refunds", []):
        lines.append(f"Refund {dollars(refund['amount'])} to the {refund['to']}, {refund['when']}.")
    return lines


def order_address(args: Facts, facts: Facts) -> list[str]:
    return [
        f"Ship order {args['order_id']} to {facts['new_address']} instead of {facts['old_address']}.",
        "Nothing is charged or refunded.",
    ]


def order_payment(args: Facts, facts: Facts) -> list[str]:
    amount = dollars(float(facts["amount"]))
    return [
        f"Pay order {args['order_id']} with the {facts['charge_to']} instead of the {facts['refund_to']}.",
        f"Charge {amount} to the new method now, and refund {amount} to the old one {facts['refund_when']}.",
    ]


def _swaps(facts: Facts, joiner: str) -> str:
    return _listing([f"{swap['from']} {joiner} {swap['to']}" for swap in facts["swaps"]])


def order_items(args: Facts, facts: Facts) -> list[str]:
    return [
        f"In order {args['order_id']}, change {_swaps(facts, 'to')}.",
        _settle(facts, "price difference"),
        "Items of an order can be changed only once, so this change must include every item.",
    ]


def return_items(args: Facts, facts: Facts) -> list[str]:
    when = str(facts["refund_when"])
    when = "as soon as" if when == "right away" else f"{when} after"
    return [
        f"Return {_listing(facts['items'])} from order {args['order_id']}.",
        f"Refund {dollars(float(facts['refund']))} to the {facts['refund_to']}, {when} the return is registered.",
        EMAIL,
    ]


def exchange_items(args: Facts, facts: Facts) -> list[str]:
    return [
        f"In order {args['order_id']}, exchange {_swaps(facts, 'for')}.",
        _settle(facts, "price difference"),
        EMAIL + " The new items ship once the returned ones are on their way.",
    ]


def user_address(args: Facts, facts: Facts) -> list[str]:
    return [
        f"Change the default address of account {args['user_id']} to {facts['new_address']} "
        f"(it was {facts['old_address']}).",
        "Orders already placed keep their shipping address.",
    ]


EXPLAIN: dict[str, Callable[[Facts, Facts], list[str]]] = {
    "cancel_pending_order": cancel,
    "modify_pending_order_address": order_address,
    "modify_pending_order_payment": order_payment,
    "modify_pending_order_items": order_items,
    "return_delivered_order_items": return_items,
    "exchange_delivered_order_items": exchange_items,
    "modify_user_address": user_address,
}
