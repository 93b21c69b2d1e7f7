"""Specs of the seven write tools. Each needs the customer's confirmation of its preview (the gateway enforces it)."""

from __future__ import annotations

from dataclasses import replace

from copilot.gateway.spec import Tool, ToolSpec

from . import handlers_account, handlers_delivered, handlers_pending, ids
from . import schemas as s
from .previews import EXPLAIN

CONFIRM = (
    " Calling it changes nothing yet: the customer is shown a preview of the change and confirms or declines it"
    " in the app, and it runs only then. Call it once you have the details; do not ask for a 'yes' in chat first."
)
ORDER_AND_PAYMENT = {"order_id": "order", "payment_method_id": "payment_method"}
ORDER_IDS = {"order_id": ids.order_id}
ITEM_IDS = {"item_ids": ids.catalogue_id, "new_item_ids": ids.catalogue_id}
PAYMENT_IDS = {"payment_method_id": ids.payment_method_id}


def pending_order_tools() -> list[Tool]:
    return [
        Tool(
            ToolSpec(
                name="cancel_pending_order",
                description=(
                    "Cancel a pending order (processed or delivered orders cannot be cancelled). The status "
                    "becomes 'cancelled' and the payment is refunded: at once to a gift card, otherwise within "
                    "5-7 business days. Returns the order after cancellation." + CONFIRM
                ),
                parameters=s.obj(
                    {
                        "order_id": s.order_id(),
                        "reason": {
                            "type": "string",
                            "enum": list(s.CANCEL_REASONS),
                            "description": "Either 'no longer needed' or 'ordered by mistake'.",
                        },
                    }
                ),
                side_effect="write",
                owned={"order_id": "order"},
                identifiers=ORDER_IDS,
            ),
            handlers_pending.cancel_pending_order,
        ),
        Tool(
            ToolSpec(
                name="modify_pending_order_address",
                description="Modify the shipping address of a pending order." + CONFIRM,
                parameters=s.obj({"order_id": s.order_id(), **s.address_properties()}),
                side_effect="write",
                owned={"order_id": "order"},
                identifiers=ORDER_IDS,
            ),
            handlers_pending.modify_pending_order_address,
        ),
        Tool(
            ToolSpec(
                name="modify_pending_order_payment",
                description=(
                    "Pay a pending order with a single different payment method of the same user. A gift card "
                    "must cover the order total; the original method is refunded." + CONFIRM
                ),
                parameters=s.obj({"order_id": s.order_id(), "payment_method_id": s.payment_method_id()}),
                side_effect="write",
                owned=ORDER_AND_PAYMENT,
                identifiers={**ORDER_IDS, **PAYMENT_IDS},
            ),
            handlers_pending.modify_pending_order_payment,
        ),
        Tool(
            ToolSpec(
                name="modify_pending_order_items",
                description=(
                    "Change items of a pending order to other available options of the same product. Can be "
                    "called only once per order (status becomes 'pending (item modified)'), so collect every "
                    "item first. The price difference is charged to or refunded on the given payment method."
                    + CONFIRM
                ),
                parameters=s.obj(
                    {
                        "order_id": s.order_id(),
                        "item_ids": s.item_id_list("The item ids to modify; duplicates allowed."),
                        "new_item_ids": s.item_id_list(
                            "The new item ids, one per item id in the same position, of the same product."
                        ),
                        "payment_method_id": s.payment_method_id(),
                    }
                ),
                side_effect="write",
                owned=ORDER_AND_PAYMENT,
                identifiers={**ORDER_IDS, **ITEM_IDS, **PAYMENT_IDS},
            ),
            handlers_pending.modify_pending_order_items,
        ),
    ]


def delivered_order_tools() -> list[Tool]:
    return [
        Tool(
            ToolSpec(
                name="return_delivered_order_items",
                description=(
                    "Request a return of items of a delivered order; the status becomes 'return requested' and "
                    "the customer gets an email on how to return them. The refund goes to the original payment "
                    "method or to one of the customer's gift cards." + CONFIRM
                ),
                parameters=s.obj(
                    {
                        "order_id": s.order_id(),
                        "item_ids": s.item_id_list("The item ids to return; duplicates allowed."),
                        "payment_method_id": s.payment_method_id(),
                    }
                ),
                side_effect="write",
                owned=ORDER_AND_PAYMENT,
                identifiers={**ORDER_IDS, "item_ids": ids.catalogue_id, **PAYMENT_IDS},
            ),
            handlers_delivered.return_delivered_order_items,
        ),
        Tool(
            ToolSpec(
                name="exchange_delivered_order_items",
                description=(
                    "Exchange items of a delivered order for other available options of the same product; the "
                    "status becomes 'exchange requested'. A delivered order can be returned or exchanged only "
                    "once, so collect every item first. The price difference is charged to or refunded on the "
                    "given payment method." + CONFIRM
                ),
                parameters=s.obj(
                    {
                        "order_id": s.order_id(),
                        "item_ids": s.item_id_list("The item ids to exchange; duplicates allowed."),
                        "new_item_ids": s.item_id_list(
                            "The new item ids, one per item id in the same position, of the same product."
                        ),
                        "payment_method_id": s.payment_method_id(),
                    }
                ),
                side_effect="write",
                owned=ORDER_AND_PAYMENT,
                identifiers={**ORDER_IDS, **ITEM_IDS, **PAYMENT_IDS},
            ),
            handlers_delivered.exchange_delivered_order_items,
        ),
    ]


def account_tools() -> list[Tool]:
    return [
        Tool(
            ToolSpec(
                name="modify_user_address",
                description="Modify the default address of a user." + CONFIRM,
                parameters=s.obj({"user_id": s.user_id(), **s.address_properties()}),
                side_effect="write",
                owned={"user_id": "user"},
                identifiers={"user_id": ids.user_id},
            ),
            handlers_account.modify_user_address,
        )
    ]


def write_tools() -> list[Tool]:
    """Every write tool, each with its plain-sentence preview (previews.EXPLAIN)."""
    tools = [*pending_order_tools(), *delivered_order_tools(), *account_tools()]
    return [Tool(replace(t.spec, explain=EXPLAIN[t.spec.name]), t.handler) for t in tools]
