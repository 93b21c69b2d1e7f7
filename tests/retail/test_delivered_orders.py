"""Delivered-order handlers and the profile address on the demo store."""

from __future__ import annotations

from typing import Any

import pytest

from copilot.errors import ToolError
from copilot.packs import Pack
from copilot.store.documents import Doc, DocumentStore

from .support import run
from .test_pending_orders import ADDRESS, DELIVERED, PENDING_CARD, doc, other_variant

DELIVERED_CARD = "#W0000005"


def exchange_args(store: DocumentStore, order_id: str, method: str) -> tuple[dict[str, Any], Doc, Doc]:
    line = doc(store, "order", order_id)["items"][0]
    new = other_variant(store, line)
    args: dict[str, Any] = {
        "order_id": order_id,
        "item_ids": [line["item_id"]],
        "new_item_ids": [new["item_id"]],
        "payment_method_id": method,
    }
    return args, line, new


def test_return_to_original_method(pack: Pack, demo_store: DocumentStore) -> None:
    items = doc(demo_store, "order", DELIVERED_CARD)["items"]
    ids = [item["item_id"] for item in reversed(items)]
    args = {"order_id": DELIVERED_CARD, "item_ids": ids, "payment_method_id": "credit_card_0000002"}
    order, ctx = run(pack, demo_store, "return_delivered_order_items", args)
    assert order["status"] == "return requested"
    assert order["return_items"] == sorted(ids)
    assert order["return_payment_method_id"] == "credit_card_0000002"
    assert ctx.amount == round(sum(item["price"] for item in items), 2)
    assert ctx.facts["refund_to"] == "Mastercard card ending in 5100"
    assert ctx.facts["refund_when"] == "within 5-7 business days"
    with pytest.raises(ToolError, match="only delivered orders can be returned"):
        run(pack, demo_store, "return_delivered_order_items", args)


def test_return_to_any_own_gift_card_but_not_other_methods(pack: Pack, demo_store: DocumentStore) -> None:
    item = doc(demo_store, "order", DELIVERED_CARD)["items"][0]["item_id"]
    base = {"order_id": DELIVERED_CARD, "item_ids": [item]}
    order, _ = run(
        pack, demo_store, "return_delivered_order_items", {**base, "payment_method_id": "gift_card_0000002"}
    )
    assert order["return_payment_method_id"] == "gift_card_0000002"
    item = doc(demo_store, "order", DELIVERED)["items"][0]["item_id"]
    with pytest.raises(ToolError, match="original payment method"):
        args = {"order_id": DELIVERED, "item_ids": [item], "payment_method_id": "paypal_0000001"}
        run(pack, demo_store, "return_delivered_order_items", args)


def test_return_preconditions(pack: Pack, demo_store: DocumentStore) -> None:
    item = doc(demo_store, "order", DELIVERED_CARD)["items"][0]["item_id"]
    with pytest.raises(ToolError, match="has 1 of item"):
        args = {
            "order_id": DELIVERED_CARD,
            "item_ids": [item, item],
            "payment_method_id": "credit_card_0000002",
        }
        run(pack, demo_store, "return_delivered_order_items", args)
    with pytest.raises(ToolError, match="only delivered orders can be returned"):
        args = {"order_id": PENDING_CARD, "item_ids": [item], "payment_method_id": "credit_card_0000001"}
        run(pack, demo_store, "return_delivered_order_items", args)


def test_exchange_records_new_items_and_difference(pack: Pack, demo_store: DocumentStore) -> None:
    args, line, new = exchange_args(demo_store, DELIVERED_CARD, "credit_card_0000002")
    order, ctx = run(pack, demo_store, "exchange_delivered_order_items", args)
    diff = round(new["price"] - line["price"], 2)
    assert order["status"] == "exchange requested"
    assert (order["exchange_items"], order["exchange_new_items"]) == ([line["item_id"]], [new["item_id"]])
    assert order["exchange_price_difference"] == diff
    assert order["exchange_payment_method_id"] == "credit_card_0000002"
    assert order["items"][0] == line and len(order["payment_history"]) == 1
    assert ctx.amount == abs(diff)
    with pytest.raises(ToolError, match="only delivered orders can be exchanged"):
        run(pack, demo_store, "exchange_delivered_order_items", args)


def test_exchange_gift_card_must_cover_difference(pack: Pack, demo_store: DocumentStore) -> None:
    line = doc(demo_store, "order", DELIVERED)["items"][0]
    product = doc(demo_store, "product", line["product_id"])
    pricier = {**other_variant(demo_store, line), "price": line["price"] + 500, "available": True}
    product["variants"][pricier["item_id"]] = pricier
    demo_store.put("product", product["product_id"], product)
    args = {
        "order_id": DELIVERED,
        "item_ids": [line["item_id"]],
        "new_item_ids": [pricier["item_id"]],
        "payment_method_id": "gift_card_0000001",
    }
    with pytest.raises(ToolError, match="not enough to pay the price difference"):
        run(pack, demo_store, "exchange_delivered_order_items", args)


def test_exchange_only_for_delivered(pack: Pack, demo_store: DocumentStore) -> None:
    args, _, _ = exchange_args(demo_store, PENDING_CARD, "credit_card_0000001")
    with pytest.raises(ToolError, match="only delivered orders can be exchanged"):
        run(pack, demo_store, "exchange_delivered_order_items", args)


def test_modify_user_address(pack: Pack, demo_store: DocumentStore) -> None:
    user, ctx = run(pack, demo_store, "modify_user_address", {"user_id": "Demo_Customer_0001", **ADDRESS})
    assert user["address"] == ADDRESS == doc(demo_store, "user", "demo_customer_0001")["address"]
    assert doc(demo_store, "order", PENDING_CARD)["address"] != ADDRESS
    assert ctx.facts["new_address"] == "9 Harbour Road, Boston, MA 02110, USA"
    with pytest.raises(ToolError, match="not found"):
        run(pack, demo_store, "modify_user_address", {"user_id": "nobody_here_0000", **ADDRESS})
