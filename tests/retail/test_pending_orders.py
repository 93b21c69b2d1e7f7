"""Pending-order handlers on the demo store: cancel, address, payment, items (happy paths + preconditions)."""

from __future__ import annotations

import pytest

from copilot.errors import ErrorCode, ToolError
from copilot.packs import Pack
from copilot.store.documents import Doc, DocumentStore

from .support import run

PENDING_CARD, PENDING_GIFT, DELIVERED, PROCESSED, CANCELLED = (
    "#W0000001",
    "#W0000004",
    "#W0000002",
    "#W0000003",
    "#W0000006",
)
ADDRESS = {
    "address1": "9 Harbour Road",
    "address2": "",
    "city": "Boston",
    "state": "MA",
    "country": "USA",
    "zip": "02110",
}


def doc(store: DocumentStore, kind: str, id_: str) -> Doc:
    found = store.get(kind, id_)
    assert found is not None
    return found


def other_variant(store: DocumentStore, line: Doc) -> Doc:
    """An available option of the same product that differs from the ordered one."""
    product = doc(store, "product", line["product_id"])
    return next(v for v in product["variants"].values() if v["available"] and v["item_id"] != line["item_id"])


def test_cancel_refunds_card_later_and_records_reason(pack: Pack, demo_store: DocumentStore) -> None:
    paid = doc(demo_store, "order", PENDING_CARD)["payment_history"][0]["amount"]
    order, ctx = run(
        pack, demo_store, "cancel_pending_order", {"order_id": "w0000001", "reason": "ordered by mistake"}
    )
    assert order["status"] == "cancelled" and order["cancel_reason"] == "ordered by mistake"
    assert order["payment_history"][-1] == {
        "transaction_type": "refund",
        "amount": paid,
        "payment_method_id": "credit_card_0000001",
    }
    assert ctx.amount == paid
    assert ctx.facts["refunds"] == [
        {"amount": paid, "to": "Visa card ending in 4242", "when": "within 5-7 business days"}
    ]
    assert doc(demo_store, "order", PENDING_CARD)["status"] == "cancelled"


def test_cancel_credits_gift_card_at_once(pack: Pack, demo_store: DocumentStore) -> None:
    paid = doc(demo_store, "order", PENDING_GIFT)["payment_history"][0]["amount"]
    run(pack, demo_store, "cancel_pending_order", {"order_id": PENDING_GIFT, "reason": "no longer needed"})
    card = doc(demo_store, "user", "demo_customer_0002")["payment_methods"]["gift_card_0000002"]
    assert card["balance"] == round(500.0 + paid, 2)


@pytest.mark.parametrize("order_id", [DELIVERED, PROCESSED, CANCELLED])
def test_only_pending_orders_can_be_cancelled(pack: Pack, demo_store: DocumentStore, order_id: str) -> None:
    with pytest.raises(ToolError, match="only pending orders can be cancelled") as caught:
        run(pack, demo_store, "cancel_pending_order", {"order_id": order_id, "reason": "no longer needed"})
    assert caught.value.code is ErrorCode.PRECONDITION_FAILED


def test_unknown_order_is_not_found(pack: Pack, demo_store: DocumentStore) -> None:
    with pytest.raises(ToolError, match="not found") as caught:
        run(pack, demo_store, "get_order_details", {"order_id": "#W0000999"})
    assert caught.value.code is ErrorCode.NOT_FOUND


def test_modify_address_keeps_status(pack: Pack, demo_store: DocumentStore) -> None:
    order, ctx = run(pack, demo_store, "modify_pending_order_address", {"order_id": PENDING_CARD, **ADDRESS})
    assert order["address"] == ADDRESS and order["status"] == "pending"
    assert ctx.facts["new_address"] == "9 Harbour Road, Boston, MA 02110, USA"
    assert ctx.facts["old_address"] == "1 Demo Plaza, San Francisco, CA 94107, USA"
    with pytest.raises(ToolError, match="only pending orders can be modified"):
        run(pack, demo_store, "modify_pending_order_address", {"order_id": DELIVERED, **ADDRESS})


def test_modify_payment_charges_new_and_refunds_old(pack: Pack, demo_store: DocumentStore) -> None:
    amount = doc(demo_store, "order", PENDING_CARD)["payment_history"][0]["amount"]
    args = {"order_id": PENDING_CARD, "payment_method_id": "gift_card_0000001"}
    order, ctx = run(pack, demo_store, "modify_pending_order_payment", args)
    assert order["payment_history"][1:] == [
        {"transaction_type": "payment", "amount": amount, "payment_method_id": "gift_card_0000001"},
        {"transaction_type": "refund", "amount": amount, "payment_method_id": "credit_card_0000001"},
    ]
    card = doc(demo_store, "user", "demo_customer_0001")["payment_methods"]["gift_card_0000001"]
    assert card["balance"] == round(150.0 - amount, 2)
    assert (ctx.amount, ctx.facts["charge_to"], ctx.facts["refund_to"]) == (
        amount,
        "gift card ending in 0001 (balance $150.00)",
        "Visa card ending in 4242",
    )
    with pytest.raises(ToolError, match="exactly one payment"):
        run(pack, demo_store, "modify_pending_order_payment", {**args, "payment_method_id": "paypal_0000001"})


def test_modify_payment_preconditions(pack: Pack, demo_store: DocumentStore) -> None:
    same = {"order_id": PENDING_CARD, "payment_method_id": "credit_card_0000001"}
    with pytest.raises(ToolError, match="already paid with"):
        run(pack, demo_store, "modify_pending_order_payment", same)
    foreign = {"order_id": PENDING_CARD, "payment_method_id": "gift_card_0000002"}
    with pytest.raises(ToolError, match="not found for user demo_customer_0001"):
        run(pack, demo_store, "modify_pending_order_payment", foreign)


def test_modify_payment_needs_gift_card_balance(pack: Pack, demo_store: DocumentStore) -> None:
    user = doc(demo_store, "user", "demo_customer_0001")
    user["payment_methods"]["gift_card_0000001"]["balance"] = 1.0
    demo_store.put("user", "demo_customer_0001", user)
    args = {"order_id": PENDING_CARD, "payment_method_id": "gift_card_0000001"}
    with pytest.raises(ToolError, match="not enough to pay"):
        run(pack, demo_store, "modify_pending_order_payment", args)


def test_modify_items_swaps_option_once(pack: Pack, demo_store: DocumentStore) -> None:
    line = doc(demo_store, "order", PENDING_CARD)["items"][0]
    new = other_variant(demo_store, line)
    args = {
        "order_id": PENDING_CARD,
        "item_ids": [line["item_id"]],
        "new_item_ids": [new["item_id"]],
        "payment_method_id": "paypal_0000001",
    }
    order, ctx = run(pack, demo_store, "modify_pending_order_items", args)
    diff = new["price"] - line["price"]
    assert order["status"] == "pending (item modified)"
    assert order["items"][0] == {
        **line,
        "item_id": new["item_id"],
        "price": new["price"],
        "options": new["options"],
    }
    assert order["payment_history"][-1] == {
        "transaction_type": "payment" if diff > 0 else "refund",
        "amount": abs(diff),
        "payment_method_id": "paypal_0000001",
    }
    assert ctx.amount == round(abs(diff), 2)
    with pytest.raises(ToolError, match="only pending orders can be modified"):
        run(pack, demo_store, "modify_pending_order_items", {**args, "item_ids": [new["item_id"]]})
    with pytest.raises(ToolError, match="only pending orders can be cancelled"):
        run(
            pack, demo_store, "cancel_pending_order", {"order_id": PENDING_CARD, "reason": "no longer needed"}
        )


def test_modify_items_preconditions(pack: Pack, demo_store: DocumentStore) -> None:
    order = doc(demo_store, "order", PENDING_CARD)
    shirt, bottle = order["items"]
    base = {"order_id": PENDING_CARD, "payment_method_id": "paypal_0000001"}
    cases = [
        ([bottle["item_id"], bottle["item_id"]], [shirt["item_id"], shirt["item_id"]], "has 1 of item"),
        ([shirt["item_id"]], [shirt["item_id"]], "same as the old one"),
        ([shirt["item_id"]], [bottle["item_id"]], "not a variant of T-Shirt"),
        (
            [shirt["item_id"], bottle["item_id"]],
            [other_variant(demo_store, shirt)["item_id"]],
            "give exactly one",
        ),
    ]
    for item_ids, new_item_ids, message in cases:
        with pytest.raises(ToolError, match=message):
            run(
                pack,
                demo_store,
                "modify_pending_order_items",
                {**base, "item_ids": item_ids, "new_item_ids": new_item_ids},
            )


def test_modify_items_rejects_unavailable_option(pack: Pack, demo_store: DocumentStore) -> None:
    line = doc(demo_store, "order", PENDING_CARD)["items"][0]
    new = other_variant(demo_store, line)
    product = doc(demo_store, "product", line["product_id"])
    product["variants"][new["item_id"]]["available"] = False
    demo_store.put("product", product["product_id"], product)
    args = {
        "order_id": PENDING_CARD,
        "item_ids": [line["item_id"]],
        "new_item_ids": [new["item_id"]],
        "payment_method_id": "paypal_0000001",
    }
    with pytest.raises(ToolError, match="not available"):
        run(pack, demo_store, "modify_pending_order_items", args)
