"""Money through the whole gateway, as a property: random sequences of cancellations, item changes, returns,
exchanges, address changes, repeated executes and twice-previewed changes of the real retail pack never
refund more than was paid, and every gift card's balance is exactly its initial balance plus the refunds and
minus the payments recorded on orders (no double credit from a replay, no lost update).

Not covered by the property: modify_pending_order_payment followed by cancel_pending_order, which violates
it in the τ²-derived handlers (the cancel refunds every history entry, refunds included) — the known
gift-card minting bug of another issue; `test_known_cancel_after_payment_change_over_refunds` pins it."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from copilot.gateway.gateway import Gateway
from copilot.gateway.result import GatewayResult
from copilot.store.database import make_engine
from copilot.store.documents import Doc, DocumentStore
from tests.gateway.retail import AGENT, audit_outcomes, ledger_rows, make_gateway, seed_small, write

ORDERS = [f"#W000000{n}" for n in range(1, 7)]
KINDS = ("cancel", "items", "return", "exchange", "address", "replay", "twice")
WRITES = (
    "cancel_pending_order", "modify_pending_order_items", "return_delivered_order_items",
    "exchange_delivered_order_items", "modify_pending_order_address", "modify_pending_order_payment",
)  # fmt: skip
Step = tuple[str, int, int, int]
steps = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 5), st.integers(0, 63), st.integers(0, 63)),
    min_size=1,
    max_size=8,
)


@contextmanager
def _retail() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory(prefix="copilot-money-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'money.db'}")
        try:
            seed_small(engine)
            yield engine
        finally:
            engine.dispose()


def _docs(engine: Engine, kind: str) -> dict[str, Doc]:
    with engine.connect() as conn:
        key = "order_id" if kind == "order" else "user_id"
        return {d[key]: d for d in DocumentStore(conn, "demo").all(kind)}


@dataclass
class World:
    """The store as the steps see it, and what the gateway answered."""

    engine: Engine
    gateway: Gateway
    executed: list[tuple[str, GatewayResult]] = field(default_factory=list)

    def order(self, index: int) -> Doc:
        return _docs(self.engine, "order")[ORDERS[index]]

    def methods(self, order: Doc) -> list[str]:
        return sorted(_docs(self.engine, "user")[order["user_id"]]["payment_methods"])

    def variant(self, product_id: str, not_item: str, pick: int) -> str | None:
        with self.engine.connect() as conn:
            product = DocumentStore(conn, "demo").get("product", product_id)
        assert product is not None
        options = sorted(i for i, v in product["variants"].items() if v["available"] and i != not_item)
        return options[pick % len(options)] if options else None


def _swap_args(world: World, step: Step) -> dict[str, Any] | None:
    _, index, a, b = step
    order = world.order(index)
    line = order["items"][a % len(order["items"])]
    new = world.variant(line["product_id"], line["item_id"], b)
    if new is None:
        return None
    method = world.methods(order)[b % len(world.methods(order))]
    return {"order_id": order["order_id"], "item_ids": [line["item_id"]], "new_item_ids": [new],
            "payment_method_id": method}  # fmt: skip


def _return_args(world: World, step: Step) -> dict[str, Any]:
    _, index, a, b = step
    order = world.order(index)
    items = [i["item_id"] for n, i in enumerate(order["items"]) if a >> n & 1] or [
        order["items"][0]["item_id"]
    ]
    method = world.methods(order)[b % len(world.methods(order))]
    return {"order_id": order["order_id"], "item_ids": items, "payment_method_id": method}


def _call(world: World, step: Step) -> tuple[str, dict[str, Any]] | None:
    kind, index, a, _ = step
    order_id = ORDERS[index]
    if kind == "cancel":
        return "cancel_pending_order", {"order_id": order_id, "reason": "no longer needed"}
    if kind == "address":
        address = {"address1": f"{a} Main St", "address2": "", "city": "Town", "state": "CA", "country": "USA",
                   "zip": "94107"}  # fmt: skip
        return "modify_pending_order_address", {"order_id": order_id, **address}
    if kind == "return":
        return "return_delivered_order_items", _return_args(world, step)
    args = _swap_args(world, step)
    tool = "modify_pending_order_items" if kind == "items" else "exchange_delivered_order_items"
    return (tool, args) if args is not None else None


def _apply(world: World, step: Step) -> None:
    kind = step[0]
    if kind == "replay":
        if world.executed:
            preview_id, first = world.executed[step[2] % len(world.executed)]
            rows = ledger_rows(world.engine)
            again = world.gateway.execute(AGENT, preview_id)
            assert (again.outcome, again.result) == (first.outcome, first.result)
            assert ledger_rows(world.engine) == rows
        return
    call = _call(world, ("cancel", *step[1:]) if kind == "twice" else step)
    if call is None:
        return
    tool, args = call
    previews = [world.gateway.call(AGENT, tool, args) for _ in range(2 if kind == "twice" else 1)]
    ids = [p.preview.preview_id for p in previews if p.preview is not None]
    for preview_id in ids:
        world.gateway.decide(AGENT, preview_id, approve=True)
    for preview_id in ids:
        result = world.gateway.execute(AGENT, preview_id)
        event(f"{tool}: {result.outcome} {result.code or ''}")
        if result.outcome == "executed":
            world.executed.append((preview_id, result))


def _signed(entry: Doc) -> float:
    amount: float = entry["amount"]
    return amount if entry["transaction_type"] == "refund" else -amount


def check_money(engine: Engine, initial_users: dict[str, Doc], initial_orders: dict[str, Doc]) -> None:
    orders, users = _docs(engine, "order"), _docs(engine, "user")
    for order in orders.values():
        history = order["payment_history"]
        paid = sum(e["amount"] for e in history if e["transaction_type"] == "payment")
        refunded = sum(e["amount"] for e in history if e["transaction_type"] == "refund")
        assert refunded <= paid + 0.005, order
        if order["status"] == "return requested":
            returned = {i["item_id"]: i["price"] for i in order["items"]}
            assert sum(returned[i] for i in order["return_items"]) <= paid - refunded + 0.005, order
    for user_id, user in users.items():
        for method_id, method in user["payment_methods"].items():
            if method.get("source") != "gift_card":
                continue
            moved = sum(
                _signed(e)
                for order_id, order in orders.items()
                for e in order["payment_history"][len(initial_orders[order_id]["payment_history"]) :]
                if e["payment_method_id"] == method_id
            )
            start = initial_users[user_id]["payment_methods"][method_id]["balance"]
            assert method["balance"] == pytest.approx(start + moved, abs=0.011), (method_id, moved)
    effects = sum(audit_outcomes(engine, tool).count("execute") for tool in WRITES)
    assert effects == ledger_rows(engine)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_random_writes_never_refund_more_than_was_paid(sequence: list[Step]) -> None:
    with _retail() as engine:
        world = World(engine, make_gateway(engine))
        initial_users, initial_orders = _docs(engine, "user"), _docs(engine, "order")
        for step in sequence:
            _apply(world, step)
            check_money(engine, initial_users, initial_orders)


@pytest.mark.xfail(strict=True, reason="known handler bug (another issue): cancel refunds refund entries too")
def test_known_cancel_after_payment_change_over_refunds() -> None:
    with _retail() as engine:
        gateway = make_gateway(engine)
        initial_users, initial_orders = _docs(engine, "user"), _docs(engine, "order")
        changed = write(gateway, AGENT, "modify_pending_order_payment",
                        {"order_id": "#W0000001", "payment_method_id": "gift_card_0000001"})  # fmt: skip
        assert changed.outcome == "executed", changed.message
        cancelled = write(
            gateway, AGENT, "cancel_pending_order", {"order_id": "#W0000001", "reason": "no longer needed"}
        )
        assert cancelled.outcome == "executed", cancelled.message
        check_money(engine, initial_users, initial_orders)
