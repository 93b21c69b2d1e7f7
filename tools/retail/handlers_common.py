"""Shared lookups and checks of the retail handlers; every failure is a ToolError that says what to do."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from copilot.errors import ErrorCode, ToolError
from copilot.store.documents import Doc, DocumentStore

USER, ORDER, PRODUCT = "user", "order", "product"


def not_found(message: str) -> ToolError:
    return ToolError(message, ErrorCode.NOT_FOUND)


def get_order(store: DocumentStore, order_id: str) -> Doc:
    order = store.get(ORDER, order_id)
    if order is None:
        raise not_found(f"Order {order_id} not found; check the order id in the user's details.")
    return order


def get_user(store: DocumentStore, user_id: str) -> Doc:
    user = store.get(USER, user_id)
    if user is None:
        raise not_found(f"User {user_id} not found; look the user up by email or by name and zip code.")
    return user


def get_product(store: DocumentStore, product_id: str) -> Doc:
    product = store.get(PRODUCT, product_id)
    if product is None:
        raise not_found(
            f"Product {product_id} not found; list_all_product_types gives valid product ids "
            "(a product id is not an item id)."
        )
    return product


def find_item(store: DocumentStore, item_id: str) -> Doc:
    """The variant with this item id, searching the whole catalogue."""
    for product in store.all(PRODUCT):
        variant = product["variants"].get(item_id)
        if variant is not None:
            return dict(variant)
    raise not_found(f"Item {item_id} not found; get_product_details lists the item ids of a product.")


def get_variant(store: DocumentStore, product_id: str, item_id: str) -> Doc:
    product = get_product(store, product_id)
    variant: Doc | None = product["variants"].get(item_id)
    if variant is None:
        raise ToolError(
            f"Item {item_id} is not a variant of {product['name']} ({product_id}); an item can only be "
            "changed to another option of the same product — see get_product_details."
        )
    return variant


def payment_method(user: Doc, payment_method_id: str) -> Doc:
    """A payment method of the order's user; anyone else's is reported as not found."""
    method: Doc | None = user["payment_methods"].get(payment_method_id)
    if method is None:
        raise not_found(
            f"Payment method {payment_method_id} not found for user {user['user_id']}; "
            "use one listed in the user's details."
        )
    return method


def is_gift_card(method: Doc) -> bool:
    return bool(method.get("source") == "gift_card")


def require_status(order: Doc, status: str, action: str) -> None:
    if order["status"] != status:
        raise ToolError(
            f"Order {order['order_id']} is '{order['status']}'; only {status} orders can be {action}."
        )


def require_pending(order: Doc, action: str) -> None:
    """τ² accepts 'pending' and 'pending (item modified)' for address and payment changes."""
    if "pending" not in order["status"]:
        raise ToolError(
            f"Order {order['order_id']} is '{order['status']}'; only pending orders can be {action}."
        )


def require_items(order: Doc, item_ids: Sequence[str]) -> None:
    """Every requested item (counting duplicates) must be in the order."""
    have = Counter(item["item_id"] for item in order["items"])
    for item_id, wanted in Counter(item_ids).items():
        if wanted > have[item_id]:
            raise ToolError(
                f"Order {order['order_id']} has {have[item_id]} of item {item_id}, not {wanted}; "
                "check the item ids with get_order_details."
            )


def order_item(order: Doc, item_id: str) -> Doc:
    """The first order line with this item id (τ² semantics for duplicates)."""
    for item in order["items"]:
        if item["item_id"] == item_id:
            return dict(item)
    raise ToolError(f"Item {item_id} is not in order {order['order_id']}.")


def price_difference(
    store: DocumentStore, order: Doc, item_ids: Sequence[str], new_item_ids: Sequence[str]
) -> float:
    """Σ (new price − old price), checking each new item is an available option of the same product."""
    if len(item_ids) != len(new_item_ids):
        raise ToolError(
            f"{len(item_ids)} item(s) to change but {len(new_item_ids)} new item(s); "
            "give exactly one new item per item, in the same order."
        )
    diff: float = 0
    for item_id, new_item_id in zip(item_ids, new_item_ids, strict=True):
        item = order_item(order, item_id)
        variant = get_variant(store, item["product_id"], new_item_id)
        if not variant["available"]:
            raise ToolError(f"New item {new_item_id} is not available; choose an available option.")
        diff += variant["price"] - item["price"]
    return diff


def require_gift_card_balance(method: Doc, amount: float, purpose: str) -> None:
    if is_gift_card(method) and method["balance"] < amount:
        raise ToolError(
            f"Gift card {method['id']} has a balance of {method['balance']}, not enough to pay {purpose} "
            f"({round(amount, 2)}); choose another payment method."
        )


def adjust_gift_card(store: DocumentStore, user_id: str, method_id: str, delta: float) -> None:
    """Add `delta` to a gift card's balance (rounded to cents like τ²); no-op for other methods."""
    user = get_user(store, user_id)
    method = payment_method(user, method_id)
    if is_gift_card(method):
        method["balance"] = round(method["balance"] + delta, 2)
        store.put(USER, user_id, user, owner=user_id)


def net_paid(order: Doc) -> dict[str, float]:
    """Per payment method, what it paid on the order minus what it got back (in history order)."""
    net: dict[str, float] = {}
    for entry in order["payment_history"]:
        sign = 1 if entry["transaction_type"] == "payment" else -1
        method_id = entry["payment_method_id"]
        net[method_id] = net.get(method_id, 0.0) + sign * entry["amount"]
    return net


def refundable(order: Doc) -> dict[str, float]:
    """What may still go back to each method: its net payment, less any store credit already refunded to
    a method beyond what it paid (so the order's refunds never exceed its payments)."""
    net = net_paid(order)
    credit = -sum(value for value in net.values() if value < 0)
    out: dict[str, float] = {}
    for method_id, value in net.items():
        taken = min(max(value, 0.0), credit)
        credit -= taken
        if money(value - taken) > 0:
            out[method_id] = money(value - taken)
    return out


def require_refund_target(order: Doc, method_id: str, method: Doc) -> None:
    """Money goes back to a method that paid the order, or to a gift card (store credit), never elsewhere."""
    if not is_gift_card(method) and method_id not in refundable(order):
        raise ToolError(
            f"Refunds on order {order['order_id']} go to its original payment method ({', '.join(refundable(order))}) "
            f"or to one of the user's gift cards, not to {method_id}."
        )


def save_order(store: DocumentStore, order: Doc) -> Doc:
    store.put(ORDER, order["order_id"], order, owner=order["user_id"])
    return order


def money(value: float) -> float:
    return round(value, 2)


def payment(kind: str, amount: float, method_id: str) -> dict[str, Any]:
    return {"transaction_type": kind, "amount": amount, "payment_method_id": method_id}


# -- readable facts for previews (rendered by tools/retail/previews.py) ------------------------------------


def method_label(method: Doc) -> str:
    """'Visa card ending in 4242', 'gift card ending in 0001 (balance $150.00)', 'PayPal account'."""
    source, method_id = str(method.get("source", "")), str(method.get("id", ""))
    if source == "credit_card":
        brand = str(method.get("brand", "credit")).title()
        return f"{brand} card ending in {method.get('last_four', '????')}"
    if source == "gift_card":
        digits = "".join(ch for ch in method_id if ch.isdigit())[-4:]
        ending = f" ending in {digits}" if digits else ""
        return f"gift card{ending} (balance {dollars(float(method.get('balance', 0)))})"
    if source == "paypal":
        return "PayPal account"
    return method_id


def refund_timing(method: Doc) -> str:
    return "right away" if is_gift_card(method) else "within 5-7 business days"


def item_label(line: Doc) -> str:
    """'T-Shirt (blue, M, cotton)': the product name and its options, as the customer ordered it."""
    options = ", ".join(str(value) for value in dict(line.get("options", {})).values())
    return f"{line.get('name', 'item')} ({options})" if options else str(line.get("name", "item"))


def swaps(
    store: DocumentStore, order: Doc, item_ids: Sequence[str], new_item_ids: Sequence[str]
) -> list[Doc]:
    """[{"from": label, "to": label}] for each item and its new option (checked by price_difference first)."""
    out = []
    for old, new in zip(item_ids, new_item_ids, strict=True):
        line = order_item(order, old)
        variant = get_variant(store, line["product_id"], new)
        out.append({"from": item_label(line), "to": item_label({**line, "options": variant["options"]})})
    return out


def address_label(address: Doc) -> str:
    parts = [address.get(key) for key in ("address1", "address2", "city")]
    place = " ".join(str(p) for p in (address.get("state"), address.get("zip")) if p)
    return ", ".join(str(p) for p in [*parts, place, address.get("country")] if p)


def dollars(value: float) -> str:
    return f"${abs(value):,.2f}"
