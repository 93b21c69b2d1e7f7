"""Tool specs: the 16 τ² tools with their argument names, strict schemas, side effects, owned args, ids."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError

from copilot.packs import Pack

from .support import validate

WRITES = {
    "cancel_pending_order",
    "modify_pending_order_address",
    "modify_pending_order_payment",
    "modify_pending_order_items",
    "return_delivered_order_items",
    "exchange_delivered_order_items",
    "modify_user_address",
}
NONE = {"calculate", "transfer_to_human_agents"}


def test_specs_match_tau2_tools(pack: Pack, shared_data: Path) -> None:
    tau2 = json.loads((shared_data / "tau2-retail" / "tools.json").read_text())
    assert {tool["name"] for tool in tau2} == set(pack.tool_names())
    for tool in tau2:
        spec = pack.tool(tool["name"]).spec
        assert set(spec.parameters["properties"]) == set(tool["parameters"]), tool["name"]
        assert spec.side_effect == ("none" if tool["kind"] == "generic" else tool["kind"]), tool["name"]


def test_schemas_are_strict(pack: Pack) -> None:
    assert len(pack.tools) == 16
    for tool in pack.tools:
        schema: dict[str, Any] = dict(tool.spec.parameters)
        Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object" and schema["additionalProperties"] is False
        assert schema["required"] == list(schema["properties"])
        assert set(tool.spec.owned) <= set(schema["properties"])
        assert set(tool.spec.identifiers) <= set(schema["properties"])
        expected = "write" if tool.spec.name in WRITES else "none" if tool.spec.name in NONE else "read"
        assert tool.spec.side_effect == expected
        assert tool.spec.openai_schema()["function"]["name"] == tool.spec.name


def test_owned_arguments(pack: Pack) -> None:
    owned = {tool.spec.name: dict(tool.spec.owned) for tool in pack.tools}
    assert owned["get_order_details"] == {"order_id": "order"}
    assert owned["get_user_details"] == {"user_id": "user"}
    assert owned["modify_user_address"] == {"user_id": "user"}
    assert owned["cancel_pending_order"] == {"order_id": "order"}
    for name in (
        "modify_pending_order_payment",
        "modify_pending_order_items",
        "return_delivered_order_items",
    ):
        assert owned[name] == {"order_id": "order", "payment_method_id": "payment_method"}
    for name in (
        "get_product_details",
        "get_item_details",
        "list_all_product_types",
        "find_user_id_by_email",
    ):
        assert owned[name] == {}


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("w1234567", "#W1234567"),
        (" #w1234567 ", "#W1234567"),
        ("W1234567", "#W1234567"),
        ("＃Ｗ１２３４５６７", "#W1234567"),
    ],
)
def test_order_ids_are_canonicalised(pack: Pack, raw: str, canonical: str) -> None:
    assert validate(pack.tool("get_order_details").spec, {"order_id": raw}) == {"order_id": canonical}


@pytest.mark.parametrize(
    "raw", ["#W123456", "#W12345678", "#9502126", "W1234567x", "#W１２３٤٥٦٧", "", "#W 1234567"]
)
def test_bad_order_ids_are_rejected(pack: Pack, raw: str) -> None:
    with pytest.raises(ValueError, match="not an order id"):
        validate(pack.tool("get_order_details").spec, {"order_id": raw})


def test_other_identifiers(pack: Pack) -> None:
    spec = pack.tool("exchange_delivered_order_items").spec
    args = {
        "order_id": "#W0000002",
        "item_ids": [" 1234567890"],
        "new_item_ids": ["１２３４５６７８９０"],
        "payment_method_id": "Gift_Card_0000001",
    }
    assert validate(spec, args) == {
        "order_id": "#W0000002",
        "item_ids": ["1234567890"],
        "new_item_ids": ["1234567890"],
        "payment_method_id": "gift_card_0000001",
    }
    assert validate(pack.tool("get_user_details").spec, {"user_id": " Sara_Doe_4960"}) == {
        "user_id": "sara_doe_4960"
    }
    for bad in (
        {"payment_method_id": "bitcoin_0000001"},
        {"item_ids": ["12345"]},
        {"new_item_ids": ["١٢٣٤٥٦٧٨٩٠"]},
    ):
        with pytest.raises(ValueError):
            validate(spec, {**args, **bad})
    with pytest.raises(ValueError):
        validate(pack.tool("get_user_details").spec, {"user_id": "sara doe"})


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("cancel_pending_order", {"order_id": "#W0000001", "reason": "because I said so"}),
        ("cancel_pending_order", {"order_id": "#W0000001"}),
        ("get_order_details", {"order_id": "#W0000001", "user_id": "sara_doe_4960"}),
        (
            "return_delivered_order_items",
            {"order_id": "#W0000002", "item_ids": [], "payment_method_id": "paypal_0000001"},
        ),
        (
            "modify_user_address",
            {
                "user_id": "sara_doe_4960",
                "address1": "1 A St",
                "address2": "",
                "city": "X",
                "state": "CA",
                "country": "USA",
                "zip": 12345,
            },
        ),
        ("calculate", {"expression": "__import__('os')"}),
        ("list_all_product_types", {"anything": 1}),
    ],
)
def test_schema_rejects(pack: Pack, tool: str, args: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        validate(pack.tool(tool).spec, args)


def test_gold_arguments_validate(pack: Pack, shared_data: Path) -> None:
    """Every well-formed gold argument object of τ²'s tasks passes canonicalisation and the schema."""
    tasks = json.loads((shared_data / "tau2-retail" / "tasks_train.json").read_text())
    checked = 0
    for task in tasks:
        for action in task["evaluation_criteria"]["actions"]:
            if action["arguments"].get("order_id", "#W").startswith("#W"):
                validate(pack.tool(action["name"]).spec, action["arguments"])
                checked += 1
    assert checked == 361


def test_pack_wires_articles_and_intents(pack: Pack) -> None:
    assert pack.name == "retail"
    assert pack.articles_dir.is_dir() and pack.articles_dir.name == "articles"
    routed = {intent.target for intent in pack.intents if intent.route == "tool"}
    assert routed and routed <= set(pack.tool_names())
