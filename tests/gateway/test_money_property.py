"""Money through the whole gateway, as a state machine: random sequences of the retail pack's writes
(cancellations, payment changes, item changes, returns, exchanges, address changes), each previewed, confirmed
and executed as the order's customer, as an agent or attempted by another customer, plus replayed executes and
twice-previewed writes. After every step:

- per order, refunds never exceed payments; a card or PayPal account never gets back more than it paid on the
  order (gift cards may receive store credit, within the order's payments); a pending return asks for at most
  what is still paid;
- a payment change moves exactly the order total; a cancellation returns exactly what was still paid;
- every gift card's balance is its initial balance plus the refunds minus the payments recorded on orders,
  and never negative (no minting, no double credit from a replay, no lost update);
- one ledger row per executed write; another customer never executes anything."""

from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from copilot.gateway.result import GatewayResult
from copilot.principal import Principal
from copilot.store.database import make_engine
from copilot.store.documents import Doc, DocumentStore
from tests.gateway.retail import AGENT, audit_outcomes, ledger_rows, make_gateway, seed_small, write

ORDERS = [f"#W000000{n}" for n in range(1, 7)]
WRITES = (
    "cancel_pending_order", "modify_pending_order_items", "return_delivered_order_items",
    "exchange_delivered_order_items", "modify_pending_order_address", "modify_pending_order_payment",
)  # fmt: skip
CENT = 0.005
ORDER_INDEX = st.one_of(st.sampled_from([0, 3]), st.integers(0, len(ORDERS) - 1))  # pending ones more often
PICKS = st.integers(0, 63)
ACTORS = st.sampled_from(["customer", "agent", "stranger"])


def _docs(store: DocumentStore, kind: str) -> dict[str, Doc]:
    key = "order_id" if kind == "order" else "user_id"
    return {d[key]: d for d in store.all(kind)}


def totals(order: Doc) -> tuple[dict[str, float], dict[str, float]]:
    """Per payment method: (paid, refunded) on this order."""
    paid: dict[str, float] = defaultdict(float)
    refunded: dict[str, float] = defaultdict(float)
    for entry in order["payment_history"]:
        side = paid if entry["transaction_type"] == "payment" else refunded
        side[entry["payment_method_id"]] += entry["amount"]
    return paid, refunded


def items_total(order: Doc) -> float:
    return sum(float(item["price"]) for item in order["items"])


class MoneyMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory(prefix="copilot-money-")
        self.engine = make_engine(f"sqlite:///{Path(self.tmp.name) / 'money.db'}")
        seed_small(self.engine)
        self.gateway = make_gateway(self.engine)
        self.initial_users, self.initial_orders = self.users(), self.orders()
        self.executed: list[tuple[str, Principal, GatewayResult]] = []

    def teardown(self) -> None:
        self.engine.dispose()
        self.tmp.cleanup()

    # --- reading the store -------------------------------------------------------------------------------
    def _read(self, kind: str) -> dict[str, Doc]:
        with self.engine.connect() as conn:
            return _docs(DocumentStore(conn, "demo"), kind)

    def orders(self) -> dict[str, Doc]:
        return self._read("order")

    def users(self) -> dict[str, Doc]:
        return self._read("user")

    def order(self, index: int) -> Doc:
        return self.orders()[ORDERS[index]]

    def method(self, order: Doc, pick: int) -> str:
        methods: list[str] = sorted(self.users()[order["user_id"]]["payment_methods"])
        return methods[pick % len(methods)]

    def variant(self, line: Doc, pick: int) -> str | None:
        with self.engine.connect() as conn:
            product = DocumentStore(conn, "demo").get("product", line["product_id"])
        assert product is not None
        options = sorted(i for i, v in product["variants"].items() if v["available"] and i != line["item_id"])
        return options[pick % len(options)] if options else None

    def principal(self, actor: str, order: Doc) -> Principal:
        if actor == "agent":
            return AGENT
        other = "demo_customer_0002" if order["user_id"] == "demo_customer_0001" else "demo_customer_0001"
        return Principal("demo", "customer", order["user_id"] if actor == "customer" else other)

    # --- driving the gateway -----------------------------------------------------------------------------
    def run(self, actor: str, order: Doc, tool: str, args: dict[str, Any], times: int = 1) -> bool:
        """Preview `times` times, confirm and execute each; True when at least one executed."""
        who = self.principal(actor, order)
        previews = [self.gateway.call(who, tool, args) for _ in range(times)]
        ids = [p.preview.preview_id for p in previews if p.preview is not None]
        for preview_id in ids:
            self.gateway.decide(who, preview_id, approve=True)
        done = False
        for preview_id in ids:
            result = self.gateway.execute(who, preview_id)
            event(f"{actor} {tool}: {result.outcome} {result.code or ''}")
            if result.outcome == "executed":
                assert actor != "stranger", (tool, args)
                self.executed.append((preview_id, who, result))
                done = True
        return done

    def swap_args(self, order: Doc, a: int, b: int) -> dict[str, Any] | None:
        line = order["items"][a % len(order["items"])]
        new = self.variant(line, b)
        if new is None:
            return None
        return {"order_id": order["order_id"], "item_ids": [line["item_id"]], "new_item_ids": [new],
                "payment_method_id": self.method(order, b)}  # fmt: skip

    # --- rules -------------------------------------------------------------------------------------------
    @rule(index=ORDER_INDEX, actor=ACTORS, twice=st.booleans())
    def cancel(self, index: int, actor: str, twice: bool) -> None:
        order = self.order(index)
        args = {"order_id": order["order_id"], "reason": "no longer needed"}
        if self.run(actor, order, "cancel_pending_order", args, times=2 if twice else 1):
            paid, refunded = totals(self.order(index))
            still_paid = sum(paid.values()) - sum(refunded.values())
            assert abs(still_paid) < CENT, "a cancellation returns exactly what was still paid"

    @rule(index=ORDER_INDEX, actor=ACTORS, pick=PICKS)
    def change_payment(self, index: int, actor: str, pick: int) -> None:
        order = self.order(index)
        new = self.method(order, pick)
        old = order["payment_history"][0]["payment_method_id"] if order["payment_history"] else None
        args = {"order_id": order["order_id"], "payment_method_id": new}
        if self.run(actor, order, "modify_pending_order_payment", args):
            paid, refunded = totals(self.order(index))
            assert abs(paid[new] - refunded[new] - items_total(order)) < CENT, "moves exactly the total"
            assert old is not None and abs(paid[old] - refunded[old]) < CENT

    @rule(index=ORDER_INDEX, actor=ACTORS, a=PICKS, b=PICKS)
    def modify_items(self, index: int, actor: str, a: int, b: int) -> None:
        order = self.order(index)
        args = self.swap_args(order, a, b)
        if args is not None:
            self.run(actor, order, "modify_pending_order_items", args)

    @rule(index=ORDER_INDEX, actor=ACTORS, a=PICKS, b=PICKS)
    def exchange(self, index: int, actor: str, a: int, b: int) -> None:
        order = self.order(index)
        args = self.swap_args(order, a, b)
        if args is not None:
            self.run(actor, order, "exchange_delivered_order_items", args)

    @rule(index=ORDER_INDEX, actor=ACTORS, a=PICKS, b=PICKS)
    def return_items(self, index: int, actor: str, a: int, b: int) -> None:
        order = self.order(index)
        items = [i["item_id"] for n, i in enumerate(order["items"]) if a >> n & 1]
        args = {"order_id": order["order_id"], "item_ids": items or [order["items"][0]["item_id"]],
                "payment_method_id": self.method(order, b)}  # fmt: skip
        self.run(actor, order, "return_delivered_order_items", args)

    @rule(index=ORDER_INDEX, actor=ACTORS, a=PICKS)
    def change_address(self, index: int, actor: str, a: int) -> None:
        order = self.order(index)
        address = {"address1": f"{a} Main St", "address2": "", "city": "Town", "state": "CA", "country": "USA",
                   "zip": "94107"}  # fmt: skip
        self.run(actor, order, "modify_pending_order_address", {"order_id": order["order_id"], **address})

    @rule(pick=PICKS)
    def replay(self, pick: int) -> None:
        if not self.executed:
            return
        preview_id, who, first = self.executed[pick % len(self.executed)]
        rows = ledger_rows(self.engine)
        again = self.gateway.execute(who, preview_id)
        assert (again.outcome, again.result) == (first.outcome, first.result)
        assert ledger_rows(self.engine) == rows

    # --- invariants --------------------------------------------------------------------------------------
    @invariant()
    def refunds_never_exceed_payments(self) -> None:
        users = self.users()
        for order in self.orders().values():
            paid, refunded = totals(order)
            assert sum(refunded.values()) <= sum(paid.values()) + CENT, order
            methods = users[order["user_id"]]["payment_methods"]
            for method_id, amount in refunded.items():
                if methods[method_id].get("source") != "gift_card":
                    assert amount <= paid[method_id] + CENT, (order, method_id)
            if order["status"] == "return requested":
                prices = {i["item_id"]: i["price"] for i in order["items"]}
                asked = sum(prices[i] for i in order["return_items"])
                assert asked <= sum(paid.values()) - sum(refunded.values()) + CENT, order

    @invariant()
    def gift_cards_are_conserved(self) -> None:
        moved: dict[str, float] = defaultdict(float)
        for order_id, order in self.orders().items():
            for entry in order["payment_history"][len(self.initial_orders[order_id]["payment_history"]) :]:
                sign = 1 if entry["transaction_type"] == "refund" else -1
                moved[entry["payment_method_id"]] += sign * entry["amount"]
        for user_id, user in self.users().items():
            for method_id, method in user["payment_methods"].items():
                if method.get("source") == "gift_card":
                    start = self.initial_users[user_id]["payment_methods"][method_id]["balance"]
                    assert abs(method["balance"] - (start + moved[method_id])) < 0.011, method_id
                    assert method["balance"] >= 0, method_id

    @invariant()
    def one_ledger_row_per_executed_write(self) -> None:
        effects = sum(audit_outcomes(self.engine, tool).count("execute") for tool in WRITES)
        assert effects == ledger_rows(self.engine)


MoneyMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=10, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestMoney = MoneyMachine.TestCase


def test_cancel_after_a_payment_change_refunds_only_what_is_still_paid() -> None:
    """The minting bug: gift card → PayPal, then cancel, used to refund the refund row too."""
    machine = MoneyMachine()
    try:
        before = machine.users()["demo_customer_0002"]["payment_methods"]["gift_card_0000002"]["balance"]
        who = Principal("demo", "customer", "demo_customer_0002")
        changed = write(machine.gateway, who, "modify_pending_order_payment",
                        {"order_id": "#W0000004", "payment_method_id": "credit_card_0000002"})  # fmt: skip
        assert changed.outcome == "executed", changed.message
        cancelled = write(
            machine.gateway,
            who,
            "cancel_pending_order",
            {"order_id": "#W0000004", "reason": "no longer needed"},
        )
        assert cancelled.outcome == "executed", cancelled.message
        order = machine.orders()["#W0000004"]
        assert order["payment_history"][-1] == {
            "transaction_type": "refund", "amount": 135.85, "payment_method_id": "credit_card_0000002",
        }  # fmt: skip
        after = machine.users()["demo_customer_0002"]["payment_methods"]["gift_card_0000002"]["balance"]
        assert (
            after == before + 135.85
        )  # it paid the order: credited once on the change, not again on the cancel
        machine.refunds_never_exceed_payments()
        machine.gift_cards_are_conserved()
    finally:
        machine.teardown()
