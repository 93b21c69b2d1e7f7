"""Handlers for delivered orders: request a return or an exchange (each at most once per order)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from copilot.gateway.spec import ToolContext
from copilot.store.documents import Doc

from . import handlers_common as c


def _items_total(order: Doc, item_ids: list[str]) -> float:
    """Price of the requested lines, counting duplicates line by line."""
    prices: dict[str, list[float]] = defaultdict(list)
    for item in order["items"]:
        prices[item["item_id"]].append(item["price"])
    return c.money(sum(prices[item_id].pop(0) for item_id in item_ids))


def return_delivered_order_items(ctx: ToolContext, args: dict[str, Any]) -> Doc:
    """Status → 'return requested'; refund to the original payment method or one of the user's gift cards."""
    order = c.get_order(ctx.store, args["order_id"])
    c.require_status(order, "delivered", "returned (a delivered order can be returned or exchanged once)")
    user = c.get_user(ctx.store, order["user_id"])
    method_id = args["payment_method_id"]
    method = c.payment_method(user, method_id)
    c.require_refund_target(order, method_id, method)
    item_ids: list[str] = args["item_ids"]
    c.require_items(order, item_ids)
    order["status"] = "return requested"
    order["return_items"] = sorted(item_ids)
    order["return_payment_method_id"] = method_id
    ctx.amount = _items_total(order, item_ids)
    ctx.facts.update(
        items=[c.item_label(c.order_item(order, item_id)) for item_id in item_ids], refund=ctx.amount,
        refund_to=c.method_label(method), refund_when=c.refund_timing(method), new_status="return requested",
    )  # fmt: skip
    return c.save_order(ctx.store, order)


def exchange_delivered_order_items(ctx: ToolContext, args: dict[str, Any]) -> Doc:
    """Status → 'exchange requested' with the new items and the price difference to settle."""
    order = c.get_order(ctx.store, args["order_id"])
    c.require_status(order, "delivered", "exchanged (a delivered order can be returned or exchanged once)")
    item_ids: list[str] = args["item_ids"]
    new_item_ids: list[str] = args["new_item_ids"]
    c.require_items(order, item_ids)
    diff = c.money(c.price_difference(ctx.store, order, item_ids, new_item_ids))
    method_id = args["payment_method_id"]
    method = c.payment_method(c.get_user(ctx.store, order["user_id"]), method_id)
    c.require_gift_card_balance(method, diff, "the price difference")
    swaps = c.swaps(ctx.store, order, item_ids, new_item_ids)
    order["status"] = "exchange requested"
    order["exchange_items"] = sorted(item_ids)
    order["exchange_new_items"] = sorted(new_item_ids)
    order["exchange_payment_method_id"] = method_id
    order["exchange_price_difference"] = diff
    ctx.amount = abs(diff)
    ctx.facts.update(
        swaps=swaps, price_difference=diff, method=c.method_label(method),
        refund_when=c.refund_timing(method), new_status="exchange requested",
    )  # fmt: skip
    return c.save_order(ctx.store, order)
