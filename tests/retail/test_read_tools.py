"""Read and generic tools: identity lookups (customers only find themselves), catalogue, calculator."""

from __future__ import annotations

import pytest

from copilot.errors import ErrorCode, ToolError
from copilot.gateway.spec import ToolContext
from copilot.packs import Pack
from copilot.store.documents import DocumentStore

from .support import principal, run

ME = principal("customer", "demo_customer_0001")


def test_staff_lookup_by_email_and_by_name_zip(pack: Pack, demo_store: DocumentStore) -> None:
    found, _ = run(pack, demo_store, "find_user_id_by_email", {"email": " Sam.Rivera@DEMO.example "})
    assert found == "demo_customer_0002"
    args = {"first_name": "alex", "last_name": "MORGAN", "zip": "94107"}
    assert run(pack, demo_store, "find_user_id_by_name_zip", args)[0] == "demo_customer_0001"
    with pytest.raises(ToolError, match="User not found") as caught:
        run(pack, demo_store, "find_user_id_by_name_zip", {**args, "zip": "94108"})
    assert caught.value.code is ErrorCode.NOT_FOUND


def test_names_match_without_accents(pack: Pack, demo_store: DocumentStore) -> None:
    args = {"first_name": "Álex", "last_name": "Morgán", "zip": "94107"}
    assert run(pack, demo_store, "find_user_id_by_name_zip", args)[0] == "demo_customer_0001"


def test_customer_lookup_finds_only_themselves(pack: Pack, demo_store: DocumentStore) -> None:
    assert run(pack, demo_store, "find_user_id_by_email", {"email": "alex.morgan@demo.example"}, ME)[0] == (
        "demo_customer_0001"
    )
    with pytest.raises(ToolError, match="User not found"):
        run(pack, demo_store, "find_user_id_by_email", {"email": "sam.rivera@demo.example"}, ME)
    with pytest.raises(ToolError, match="User not found"):
        args = {"first_name": "Sam", "last_name": "Rivera", "zip": "10001"}
        run(pack, demo_store, "find_user_id_by_name_zip", args, ME)
    guest = principal("guest", "anonymous")
    with pytest.raises(ToolError, match="User not found"):
        run(pack, demo_store, "find_user_id_by_email", {"email": "alex.morgan@demo.example"}, guest)


def test_order_and_user_details(pack: Pack, demo_store: DocumentStore) -> None:
    order, _ = run(pack, demo_store, "get_order_details", {"order_id": "#w0000002"})
    assert (order["order_id"], order["status"], order["user_id"]) == (
        "#W0000002",
        "delivered",
        "demo_customer_0001",
    )
    user, _ = run(pack, demo_store, "get_user_details", {"user_id": "demo_customer_0001"})
    assert user["orders"] == ["#W0000001", "#W0000002", "#W0000003"]
    assert user["payment_methods"]["gift_card_0000001"]["balance"] == 150.0


def test_catalogue_reads(pack: Pack, demo_store: DocumentStore) -> None:
    types, _ = run(pack, demo_store, "list_all_product_types", {})
    assert list(types) == sorted(types) and len(types) == 32
    product, _ = run(pack, demo_store, "get_product_details", {"product_id": types["T-Shirt"]})
    item_id, variant = next(iter(product["variants"].items()))
    assert run(pack, demo_store, "get_item_details", {"item_id": item_id})[0] == variant
    with pytest.raises(ToolError, match="Item 0000000000 not found"):
        run(pack, demo_store, "get_item_details", {"item_id": "0000000000"})
    with pytest.raises(ToolError, match="a product id is not an item id"):
        run(pack, demo_store, "get_product_details", {"product_id": item_id})


@pytest.mark.parametrize(
    ("expression", "result"),
    [
        ("2 + 2", "4.0"),
        ("(1 + 2) * 3 - 4 / 8", "8.5"),
        ("-3.5 * -(2)", "7.0"),
        ("3131.1 + 4777.75 + 367.38", "8276.23"),
        ("10 / 3", "3.33"),
    ],
)
def test_calculate(pack: Pack, demo_store: DocumentStore, expression: str, result: str) -> None:
    assert run(pack, demo_store, "calculate", {"expression": expression})[0] == result


@pytest.mark.parametrize(
    "expression", ["1 / 0", "2 ** 10", "1 // 2", "()", "1 +", "(" * 150 + "1" + ")" * 150, "1e3", "abs(1)"]
)
def test_calculate_rejects_anything_else(pack: Pack, demo_store: DocumentStore, expression: str) -> None:
    handler = pack.tool("calculate").handler
    with pytest.raises(ToolError) as caught:
        handler(ToolContext(principal=ME, store=demo_store, dry_run=False), {"expression": expression})
    assert caught.value.code is ErrorCode.INVALID_ARGUMENTS


def test_transfer_to_human_agents(pack: Pack, demo_store: DocumentStore) -> None:
    result, ctx = run(pack, demo_store, "transfer_to_human_agents", {"summary": "wants a human"}, ME)
    assert result == "Transfer successful"
    assert ctx.facts == {"handoff": True, "summary": "wants a human"}
