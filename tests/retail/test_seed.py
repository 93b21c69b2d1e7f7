"""Seeding: the deterministic demo generator and loading a τ²-format db.json."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from copilot.errors import CopilotError, ErrorCode
from copilot.packs import Pack
from copilot.store.database import make_engine
from copilot.store.documents import DocumentStore
from copilot.store.schema import documents, resource_owners

from .support import TENANT


def snapshot(store: DocumentStore) -> dict[str, list[Any]]:
    return {kind: list(store.all(kind)) for kind in ("user", "order", "product")}


def owners(store: DocumentStore, kind: str) -> dict[str, str]:
    table = resource_owners if kind == "payment_method" else documents
    rows = store.conn.execute(select(table.c.id, table.c.owner).where(table.c.kind == kind))
    return {id_: owner for id_, owner in rows}


def test_generator_is_deterministic(pack: Pack, demo_store: DocumentStore, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'again.db'}")
    with engine.begin() as conn:
        again = DocumentStore(conn, TENANT)
        assert pack.seed(again, None) == sum(len(docs) for docs in snapshot(demo_store).values())
        assert snapshot(again) == snapshot(demo_store)
    engine.dispose()


def test_demo_store_shape(demo_store: DocumentStore) -> None:
    data = snapshot(demo_store)
    assert len(data["user"]) >= 300 and len(data["order"]) >= 500 and len(data["product"]) >= 30
    statuses = Counter(order["status"] for order in data["order"])
    assert (
        set(statuses) == {"pending", "processed", "delivered", "cancelled"} and min(statuses.values()) >= 50
    )
    assert sum(len(product["variants"]) for product in data["product"]) >= 150
    cards = [
        m for user in data["user"] for m in user["payment_methods"].values() if m["source"] == "gift_card"
    ]
    assert len(cards) >= 50 and any(card["balance"] > 0 for card in cards)
    for order in data["order"]:
        assert order["payment_history"][0]["amount"] == round(
            sum(item["price"] for item in order["items"]), 2
        )
        assert (
            order["order_id"] in next(u for u in data["user"] if u["user_id"] == order["user_id"])["orders"]
        )
        assert bool(order["fulfillments"]) is (order["status"] != "pending")


def test_demo_owners_registered(demo_store: DocumentStore) -> None:
    users = list(demo_store.all("user"))
    methods = owners(demo_store, "payment_method")
    assert methods == {m: u["user_id"] for u in users for m in u["payment_methods"]}
    order_owners = owners(demo_store, "order")
    assert all(order_owners[o["order_id"]] == o["user_id"] for o in demo_store.all("order"))
    assert set(owners(demo_store, "product").values()) == {None}


def test_fixed_demo_users(demo_store: DocumentStore) -> None:
    first = demo_store.get("user", "demo_customer_0001")
    second = demo_store.get("user", "demo_customer_0002")
    assert first is not None and second is not None
    assert first["orders"] == ["#W0000001", "#W0000002", "#W0000003"]
    assert second["orders"] == ["#W0000004", "#W0000005", "#W0000006", "#W0000007"]
    statuses = [demo_store.get("order", f"#W000000{n}") for n in range(1, 8)]
    assert [order["status"] for order in statuses if order] == [
        "pending",
        "delivered",
        "processed",
        "pending",
        "delivered",
        "cancelled",
        "pending",
    ]
    big = statuses[-1]
    assert big is not None and len({line["item_id"] for line in big["items"]}) == len(big["items"])
    assert demo_store.owner_of("payment_method", "gift_card_0000001") == "demo_customer_0001"


def test_load_tau2_db(pack: Pack, tau2_store: DocumentStore, tau2_db: Path) -> None:
    raw = json.loads(tau2_db.read_text())
    assert snapshot(tau2_store) == {
        "user": [raw["users"][k] for k in sorted(raw["users"])],
        "order": [raw["orders"][k] for k in sorted(raw["orders"])],
        "product": [raw["products"][k] for k in sorted(raw["products"])],
    }
    assert len(owners(tau2_store, "payment_method")) == 695
    assert tau2_store.owner_of("order", "#W2378156") == "yusuf_rossi_9620"
    assert pack.seed(tau2_store, tau2_db) == 1550
    count = tau2_store.conn.execute(select(func.count()).select_from(documents)).scalar_one()
    assert count == 1550


def test_bad_db_path_says_what_to_do(pack: Pack, demo_store: DocumentStore, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"users": {}}))
    for path in (wrong, tmp_path / "missing.json"):
        with pytest.raises(CopilotError) as caught:
            pack.seed(demo_store, path)
        assert caught.value.code is ErrorCode.CONFIGURATION
