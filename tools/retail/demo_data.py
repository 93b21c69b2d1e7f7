"""Deterministic demo store in τ²'s db.json shape (seeded random, no network).

Fixed demo users (stable for demos and tests; every generated id differs from these):
- demo_customer_0001 (Alex Morgan, alex.morgan@demo.example, zip 94107): credit_card_0000001,
  gift_card_0000001 (balance 150.0), paypal_0000001; orders #W0000001 pending (credit card),
  #W0000002 delivered (gift card), #W0000003 processed (paypal).
- demo_customer_0002 (Sam Rivera, sam.rivera@demo.example, zip 10001): gift_card_0000002 (balance 500.0),
  credit_card_0000002; orders #W0000004 pending (gift card), #W0000005 delivered (credit card),
  #W0000006 cancelled (credit card, refunded), #W0000007 pending (credit card): four laptops and a bicycle,
  about 5,900 in all — above the agent refund limit (5,000), so an agent's cancel becomes a supervisor approval.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from .demo_vocab import CATALOGUE, CITIES, FIRST, LAST, STREETS

Doc = dict[str, Any]
DEFAULT_SEED = 20240601
DEFAULT_USERS = 300

STATUSES = ("pending", "processed", "delivered", "cancelled")
STATUS_WEIGHTS = (40, 12, 36, 12)


class _Ids:
    """Unique random digit strings; generated ids start at 1000000 so they never clash with fixed demo ids."""

    def __init__(self, rng: random.Random) -> None:
        self.rng, self.seen = rng, set[str]()

    def digits(self, width: int) -> str:
        while True:
            value = str(self.rng.randrange(10 ** (width - 1), 10**width))
            if value not in self.seen:
                self.seen.add(value)
                return value


def _products(rng: random.Random, ids: _Ids) -> dict[str, Doc]:
    products: dict[str, Doc] = {}
    for name, base, options in CATALOGUE:
        combos = list(itertools.product(*options.values()))
        chosen = rng.sample(combos, k=min(len(combos), rng.randint(5, 14)))
        variants: dict[str, Doc] = {}
        for index, combo in enumerate(chosen):
            item_id = ids.digits(10)
            variants[item_id] = {
                "item_id": item_id,
                "options": dict(zip(options, combo, strict=True)),
                "available": index < 2 or rng.random() < 0.8,
                "price": round(base * rng.uniform(0.85, 1.2), 2),
            }
        product_id = ids.digits(10)
        products[product_id] = {"name": name, "product_id": product_id, "variants": variants}
    return products


def _address(rng: random.Random) -> Doc:
    city, state, zip_prefix = rng.choice(CITIES)
    return {
        "address1": f"{rng.randint(10, 999)} {rng.choice(STREETS)}",
        "address2": rng.choice(("", f"Suite {rng.randint(100, 999)}", f"Apt {rng.randint(1, 40)}")),
        "city": city,
        "country": "USA",
        "state": state,
        "zip": f"{zip_prefix}{rng.randint(1, 99):02d}",
    }


def _payment_methods(rng: random.Random, ids: _Ids) -> dict[str, Doc]:
    sources = rng.sample(("credit_card", "paypal", "gift_card"), k=rng.choice((1, 1, 2, 2, 3)))
    methods: dict[str, Doc] = {}
    for source in sources:
        method_id = f"{source}_{ids.digits(7)}"
        method: Doc = {"source": source, "id": method_id}
        if source == "credit_card":
            method.update(brand=rng.choice(("visa", "mastercard")), last_four=f"{rng.randint(0, 9999):04d}")
        elif source == "gift_card":
            method["balance"] = float(rng.randint(0, 300))
        methods[method_id] = method
    return methods


def _line(product: Doc, variant: Doc) -> Doc:
    return {
        "name": product["name"],
        "product_id": product["product_id"],
        "item_id": variant["item_id"],
        "price": variant["price"],
        "options": dict(variant["options"]),
    }


def make_order(
    order_id: str, user: Doc, lines: list[Doc], *, status: str, method_id: str, tracking: str
) -> Doc:
    """An order in τ² shape: fulfilment once processed, payment (plus refund when cancelled)."""
    amount = round(sum(line["price"] for line in lines), 2)
    history = [{"transaction_type": "payment", "amount": amount, "payment_method_id": method_id}]
    if status == "cancelled":
        history.append({"transaction_type": "refund", "amount": amount, "payment_method_id": method_id})
    fulfilled = status != "pending"
    return {
        "order_id": order_id,
        "user_id": user["user_id"],
        "address": dict(user["address"]),
        "items": lines,
        "status": status,
        "fulfillments": [{"tracking_id": [tracking], "item_ids": [line["item_id"] for line in lines]}]
        if fulfilled
        else [],
        "payment_history": history,
    }


def _random_lines(rng: random.Random, products: list[Doc]) -> list[Doc]:
    lines = []
    for product in rng.sample(products, k=rng.randint(1, 5)):
        lines.append(_line(product, rng.choice(list(product["variants"].values()))))
    return lines


def _user(rng: random.Random, ids: _Ids) -> Doc:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return {
        "user_id": f"{first}_{last}_{ids.digits(4)}",
        "name": {"first_name": first.title(), "last_name": last.title()},
        "address": _address(rng),
        "email": f"{first}.{last}{rng.randint(1000, 9999)}@example.com",
        "payment_methods": _payment_methods(rng, ids),
        "orders": [],
    }


def generate(seed: int = DEFAULT_SEED, users: int = DEFAULT_USERS) -> dict[str, dict[str, Doc]]:
    """A τ²-shaped store: products with variants, users with payment methods, orders of every status."""
    rng = random.Random(seed)
    ids = _Ids(rng)
    products = _products(rng, ids)
    catalogue = list(products.values())
    db: dict[str, dict[str, Doc]] = {"products": products, "users": {}, "orders": {}}
    for _ in range(users):
        user = _user(rng, ids)
        db["users"][user["user_id"]] = user
        for _ in range(rng.choice((0, 1, 1, 2, 2, 2, 3, 4))):
            order_id = f"#W{ids.digits(7)}"
            status = rng.choices(STATUSES, weights=STATUS_WEIGHTS)[0]
            method_id = rng.choice(list(user["payment_methods"]))
            lines = _random_lines(rng, catalogue)
            db["orders"][order_id] = make_order(
                order_id, user, lines, status=status, method_id=method_id, tracking=ids.digits(12)
            )
            user["orders"].append(order_id)
    add_fixed_users(db)
    return db


FIXED_USERS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("demo_customer_0001", "Alex", "Morgan", "alex.morgan@demo.example", "94107", "San Francisco|CA"),
    ("demo_customer_0002", "Sam", "Rivera", "sam.rivera@demo.example", "10001", "New York|NY"),
)
FIXED_METHODS: dict[str, tuple[Doc, ...]] = {
    "demo_customer_0001": (
        {"source": "credit_card", "id": "credit_card_0000001", "brand": "visa", "last_four": "4242"},
        {"source": "gift_card", "id": "gift_card_0000001", "balance": 150.0},
        {"source": "paypal", "id": "paypal_0000001"},
    ),
    "demo_customer_0002": (
        {"source": "gift_card", "id": "gift_card_0000002", "balance": 500.0},
        {"source": "credit_card", "id": "credit_card_0000002", "brand": "mastercard", "last_four": "5100"},
    ),
}
FIXED_ORDERS: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("#W0000001", "demo_customer_0001", "pending", "credit_card_0000001", ("T-Shirt", "Water Bottle")),
    (
        "#W0000002",
        "demo_customer_0001",
        "delivered",
        "gift_card_0000001",
        ("Mechanical Keyboard", "Headphones"),
    ),
    ("#W0000003", "demo_customer_0001", "processed", "paypal_0000001", ("Backpack",)),
    ("#W0000004", "demo_customer_0002", "pending", "gift_card_0000002", ("Coffee Maker",)),
    ("#W0000005", "demo_customer_0002", "delivered", "credit_card_0000002", ("Running Shoes", "Yoga Mat")),
    ("#W0000006", "demo_customer_0002", "cancelled", "credit_card_0000002", ("Desk Lamp",)),
    (
        "#W0000007",
        "demo_customer_0002",
        "pending",
        "credit_card_0000002",
        ("Laptop", "Laptop", "Laptop", "Laptop", "Bicycle"),
    ),
)


def _fixed_user(row: tuple[str, str, str, str, str, str]) -> Doc:
    user_id, first, last, email, zip_code, place = row
    city, state = place.split("|")
    return {
        "user_id": user_id,
        "name": {"first_name": first, "last_name": last},
        "address": {
            "address1": "1 Demo Plaza",
            "address2": "",
            "city": city,
            "country": "USA",
            "state": state,
            "zip": zip_code,
        },
        "email": email,
        "payment_methods": {method["id"]: dict(method) for method in FIXED_METHODS[user_id]},
        "orders": [],
    }


def add_fixed_users(db: dict[str, dict[str, Doc]]) -> None:
    """Add the documented demo users; an order line is the first variant of the named product (a name repeated
    in one order takes the next variant each time)."""
    by_name = {product["name"]: product for product in db["products"].values()}
    for row in FIXED_USERS:
        db["users"][row[0]] = _fixed_user(row)
    for number, (order_id, user_id, status, method_id, names) in enumerate(FIXED_ORDERS, start=1):
        user = db["users"][user_id]
        lines = [
            _line(by_name[name], list(by_name[name]["variants"].values())[names[:i].count(name)])
            for i, name in enumerate(names)
        ]
        db["orders"][order_id] = make_order(
            order_id, user, lines, status=status, method_id=method_id, tracking=f"{number:012d}"
        )
        user["orders"].append(order_id)
