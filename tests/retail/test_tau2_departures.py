"""Where the pack departs from τ²'s reference tools, on τ²'s own db.json. τ²'s tools can mint money; ours
keep the money invariants (tools/retail/README.md, "Departures from τ²"). Every gold action of
tasks_train.json still replays to the hand-checked results (test_tau2_replay.py), so no task depends on them:
these are exactly the behaviours that differ."""

from __future__ import annotations

import pytest

from copilot.errors import ToolError
from copilot.packs import Pack
from copilot.store.documents import Doc, DocumentStore

from .support import run

pytestmark = pytest.mark.shared


def _pending_gift_card_order(store: DocumentStore) -> tuple[Doc, str, str]:
    """A pending order paid with a gift card, and another (non gift card) method of its user."""
    for order in store.all("order"):
        paid_with = order["payment_history"][0]["payment_method_id"]
        if order["status"] != "pending" or not paid_with.startswith("gift_card_"):
            continue
        user = store.get("user", order["user_id"])
        assert user is not None
        others = sorted(m for m, v in user["payment_methods"].items() if v["source"] != "gift_card")
        if others:
            return order, paid_with, others[0]
    raise AssertionError("db.json has no pending gift-card order of a user with another method")


def _balance(store: DocumentStore, user_id: str, card: str) -> float:
    user = store.get("user", user_id)
    assert user is not None
    return float(user["payment_methods"][card]["balance"])


def test_cancel_after_a_payment_change_refunds_what_is_still_paid(
    pack: Pack, tau2_store: DocumentStore
) -> None:
    # τ²: cancel refunds every history row, the change's refund included: the gift card is credited twice.
    order, card, other = _pending_gift_card_order(tau2_store)
    amount, user_id = order["payment_history"][0]["amount"], order["user_id"]
    start = _balance(tau2_store, user_id, card)
    run(
        pack,
        tau2_store,
        "modify_pending_order_payment",
        {"order_id": order["order_id"], "payment_method_id": other},
    )
    cancelled, _ = run(pack, tau2_store, "cancel_pending_order", {"order_id": order["order_id"], "reason": "no longer needed"})  # fmt: skip
    tau2_refunds = len(cancelled["payment_history"]) - 1  # what τ² would have appended: one per earlier row
    assert tau2_refunds == 3
    assert cancelled["payment_history"][3:] == [{"transaction_type": "refund", "amount": amount, "payment_method_id": other}]  # fmt: skip
    assert _balance(tau2_store, user_id, card) == round(start + amount, 2)  # τ²: start + 2 × amount


def test_a_price_difference_is_refunded_to_a_payer_or_a_gift_card(
    pack: Pack, tau2_store: DocumentStore
) -> None:
    # τ²: the refund of a cheaper option goes to any method of the user, one that never paid included.
    order, card, other = _pending_gift_card_order(tau2_store)
    for line in order["items"]:
        product = tau2_store.get("product", line["product_id"])
        assert product is not None
        cheaper = [v for v in product["variants"].values() if v["available"] and v["price"] < line["price"]]
        if cheaper:
            args = {"order_id": order["order_id"], "item_ids": [line["item_id"]],
                    "new_item_ids": [cheaper[0]["item_id"]], "payment_method_id": other}  # fmt: skip
            with pytest.raises(ToolError, match="original payment method"):
                run(pack, tau2_store, "modify_pending_order_items", args)
            changed, _ = run(
                pack, tau2_store, "modify_pending_order_items", {**args, "payment_method_id": card}
            )
            assert changed["payment_history"][-1]["payment_method_id"] == card
            return
    pytest.skip("no cheaper option for this order")  # pragma: no cover - db.json has one


def _pending_card_order(store: DocumentStore) -> tuple[Doc, str, str]:
    """A pending order paid by card or PayPal, and another such method of its user."""
    for order in store.all("order"):
        paid_with = order["payment_history"][0]["payment_method_id"]
        user = store.get("user", order["user_id"])
        assert user is not None
        others = sorted(
            m for m, v in user["payment_methods"].items() if v["source"] != "gift_card" and m != paid_with
        )
        if order["status"] == "pending" and not paid_with.startswith("gift_card_") and others:
            return order, paid_with, others[0]
    raise AssertionError("db.json has no pending card order of a user with two cards")


def test_a_return_goes_to_a_method_that_still_holds_the_payment(
    pack: Pack, tau2_store: DocumentStore
) -> None:
    # τ²: the "original" method is payment_history[0], even after a payment change refunded it in full.
    order, first, second = _pending_card_order(tau2_store)
    run(
        pack,
        tau2_store,
        "modify_pending_order_payment",
        {"order_id": order["order_id"], "payment_method_id": second},
    )
    changed = tau2_store.get("order", order["order_id"])
    assert changed is not None
    tau2_store.put("order", order["order_id"], {**changed, "status": "delivered"}, owner=order["user_id"])
    args = {"order_id": order["order_id"], "item_ids": [order["items"][0]["item_id"]]}
    with pytest.raises(ToolError, match="original payment method"):
        run(pack, tau2_store, "return_delivered_order_items", {**args, "payment_method_id": first})
    returned, _ = run(pack, tau2_store, "return_delivered_order_items", {**args, "payment_method_id": second})
    assert returned["return_payment_method_id"] == second
