"""Handlers that change a pending order: cancel, shipping address, payment method, item options."""

from __future__ import annotations

from typing import Any

from copilot.errors import ToolError
from copilot.gateway.spec import ToolContext
from copilot.store.documents import Doc

from . import handlers_common as c
from .schemas import ADDRESS_FIELDS, CANCEL_REASONS


def cancel_pending_order(ctx: ToolContext, args: dict[str, Any]) -> Doc:
    """Status → 'cancelled'; each payment method gets back what it paid and has not been refunded (gift cards
    credited at once). τ² refunds every history entry instead, refunds included (see README)."""
    order = c.get_order(ctx.store, args["order_id"])
    c.require_status(order, "pending", "cancelled")
    reason = args["reason"]
    if reason not in CANCEL_REASONS:
        raise ToolError(f"Cancellation reason must be one of {list(CANCEL_REASONS)}.")
    user = c.get_user(ctx.store, order["user_id"])
    refunds = [c.payment("refund", amount, m) for m, amount in c.refundable(order).items()]
    readable = []
    for refund in refunds:
        method = c.payment_method(user, refund["payment_method_id"])
        readable.append(
            {"amount": refund["amount"], "to": c.method_label(method), "when": c.refund_timing(method)}
        )
        c.adjust_gift_card(ctx.store, order["user_id"], refund["payment_method_id"], refund["amount"])
    order["status"] = "cancelled"
    order["cancel_reason"] = reason
    order["payment_history"].extend(refunds)
    ctx.amount = c.money(sum(refund["amount"] for refund in refunds))
    ctx.facts.update(
        items=[c.item_label(line) for line in order["items"]], reason=reason, refunds=readable,
        new_status="cancelled",
    )  # fmt: skip
    return c.save_order(ctx.store, order)


def modify_pending_order_address(ctx: ToolContext, args: dict[str, Any]) -> Doc:
    """Replace the shipping address of a pending order."""
    order = c.get_order(ctx.store, args["order_id"])
    c.require_pending(order, "modified")
    old = c.address_label(order["address"])
    order["address"] = {name: args[name] for name in ADDRESS_FIELDS}
    ctx.facts.update(old_address=old, new_address=c.address_label(order["address"]))
    return c.save_order(ctx.store, order)


def modify_pending_order_payment(ctx: ToolContext, args: dict[str, Any]) -> Doc:
    """Pay with another method: a new payment plus a refund of the original one."""
    order = c.get_order(ctx.store, args["order_id"])
    c.require_pending(order, "modified")
    user = c.get_user(ctx.store, order["user_id"])
    new_id = args["payment_method_id"]
    method = c.payment_method(user, new_id)
    history = order["payment_history"]
    if len(history) != 1 or history[0]["transaction_type"] != "payment":
        raise ToolError(
            f"Order {order['order_id']} has {len(history)} transactions; the payment method can only be "
            "changed while the order has exactly one payment."
        )
    old_id, amount = history[0]["payment_method_id"], history[0]["amount"]
    if old_id == new_id:
        raise ToolError(
            f"Order {order['order_id']} is already paid with {new_id}; choose a different method."
        )
    c.require_gift_card_balance(method, amount, "for the order")
    history.extend([c.payment("payment", amount, new_id), c.payment("refund", amount, old_id)])
    c.adjust_gift_card(ctx.store, order["user_id"], new_id, -amount)
    c.adjust_gift_card(ctx.store, order["user_id"], old_id, amount)
    old_method = c.payment_method(user, old_id)
    ctx.amount = c.money(amount)
    ctx.facts.update(
        amount=c.money(amount), charge_to=c.method_label(method), refund_to=c.method_label(old_method),
        refund_when=c.refund_timing(old_method),
    )  # fmt: skip
    return c.save_order(ctx.store, order)


def modify_pending_order_items(ctx: ToolContext, args: dict[str, Any]) -> Doc:
    """Swap item options (same product) once; the price difference is charged or refunded."""
    order = c.get_order(ctx.store, args["order_id"])
    c.require_status(order, "pending", "modified (item options can be changed only once)")
    item_ids: list[str] = args["item_ids"]
    new_item_ids: list[str] = args["new_item_ids"]
    c.require_items(order, item_ids)
    for old, new in zip(item_ids, new_item_ids, strict=False):
        if old == new:
            raise ToolError(f"New item {new} is the same as the old one; choose a different option.")
    diff = c.price_difference(ctx.store, order, item_ids, new_item_ids)
    method_id = args["payment_method_id"]
    method = c.payment_method(c.get_user(ctx.store, order["user_id"]), method_id)
    c.require_gift_card_balance(method, diff, "the price difference")
    if diff < 0:
        c.require_refund_target(order, method_id, method)
    ctx.facts.update(swaps=c.swaps(ctx.store, order, item_ids, new_item_ids))
    order["payment_history"].append(c.payment("payment" if diff > 0 else "refund", abs(diff), method_id))
    c.adjust_gift_card(ctx.store, order["user_id"], method_id, -diff)
    _swap_items(ctx, order, item_ids, new_item_ids)
    order["status"] = "pending (item modified)"
    ctx.amount = c.money(abs(diff))
    ctx.facts.update(
        price_difference=c.money(diff), method=c.method_label(method), refund_when=c.refund_timing(method)
    )
    return c.save_order(ctx.store, order)


def _swap_items(ctx: ToolContext, order: Doc, item_ids: list[str], new_item_ids: list[str]) -> None:
    for old, new in zip(item_ids, new_item_ids, strict=True):
        line = next(item for item in order["items"] if item["item_id"] == old)
        variant = c.get_variant(ctx.store, line["product_id"], new)
        line.update(item_id=new, price=variant["price"], options=variant["options"])
