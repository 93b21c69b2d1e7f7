"""The pack's intents: all 27 Bitext support intents and one per other retail tool, each routed to a real tool,
article or queue."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from types import ModuleType

import pytest

from copilot.errors import CopilotError, ErrorCode
from copilot.packs import Intent

from .conftest import ARTICLES_DIR

BITEXT_INTENTS = {
    "cancel_order",
    "change_order",
    "change_shipping_address",
    "check_cancellation_fee",
    "check_invoice",
    "check_payment_methods",
    "check_refund_policy",
    "complaint",
    "contact_customer_service",
    "contact_human_agent",
    "create_account",
    "delete_account",
    "delivery_options",
    "delivery_period",
    "edit_account",
    "get_invoice",
    "get_refund",
    "newsletter_subscription",
    "payment_issue",
    "place_order",
    "recover_password",
    "registration_problems",
    "review",
    "set_up_shipping_address",
    "switch_account",
    "track_order",
    "track_refund",
}
TOOL_INTENTS = {
    "exchange_item",
    "change_payment_method",
    "account_details",
    "list_products",
    "product_details",
    "item_details",
    "calculate",
    "find_account_by_email",
    "find_account_by_name",
}
"""The pack's own intents beyond Bitext's, one per otherwise unrouted retail tool."""
RETAIL_TOOLS = {
    "calculate",
    "cancel_pending_order",
    "exchange_delivered_order_items",
    "find_user_id_by_name_zip",
    "find_user_id_by_email",
    "get_order_details",
    "get_product_details",
    "get_item_details",
    "get_user_details",
    "list_all_product_types",
    "modify_pending_order_address",
    "modify_pending_order_items",
    "modify_pending_order_payment",
    "modify_user_address",
    "return_delivered_order_items",
    "transfer_to_human_agents",
}


def normalized(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def test_every_bitext_intent_is_declared_once(intents: tuple[Intent, ...]) -> None:
    names = [intent.name for intent in intents]
    assert len(names) == len(set(names))
    assert set(names) == BITEXT_INTENTS | TOOL_INTENTS


def test_every_tool_but_the_handoff_has_an_intent(intents: tuple[Intent, ...]) -> None:
    routed = {intent.target for intent in intents if intent.route == "tool"}
    assert routed == RETAIL_TOOLS - {"transfer_to_human_agents"}  # handoff intents reach it via the model


def test_every_target_exists(intents: tuple[Intent, ...]) -> None:
    articles = {path.stem for path in ARTICLES_DIR.glob("*.md")}
    for intent in intents:
        if intent.route == "tool":
            assert intent.target in RETAIL_TOOLS, intent
        elif intent.route == "article":
            assert intent.target in articles, intent
        else:
            assert re.fullmatch(r"[a-z][a-z0-9-]*", intent.target), intent


def test_key_routes(intents: tuple[Intent, ...]) -> None:
    routes = {intent.name: (intent.route, intent.target) for intent in intents}
    assert routes["track_order"] == ("tool", "get_order_details")
    assert routes["cancel_order"] == ("tool", "cancel_pending_order")
    assert routes["get_refund"] == ("tool", "return_delivered_order_items")
    assert routes["contact_human_agent"][0] == "handoff"
    assert routes["check_cancellation_fee"] == ("article", "cancellation-fees")


def test_examples_are_plentiful_and_unambiguous(intents: tuple[Intent, ...]) -> None:
    owner: dict[str, str] = {}
    for intent in intents:
        assert 20 <= len(intent.examples) <= 40, f"{intent.name}: {len(intent.examples)} examples"
        for example in intent.examples:
            key = normalized(example)
            assert owner.setdefault(key, intent.name) == intent.name, f"{example!r} under two intents"
        assert len({normalized(e) for e in intent.examples}) == len(intent.examples)


def test_intents_attribute_is_lazy_and_cached(intents_module: ModuleType) -> None:
    assert intents_module.INTENTS is intents_module.load_intents()
    with pytest.raises(AttributeError):
        _ = intents_module.NOT_THERE


def test_examples_file_must_cover_exactly_the_routed_intents(
    intents_module: ModuleType, tmp_path: Path
) -> None:
    partial = tmp_path / "partial.yaml"
    partial.write_text("track_order:\n  - where is my order\n", encoding="utf-8")
    with pytest.raises(CopilotError) as caught:
        intents_module.load_intents(partial)
    assert caught.value.code is ErrorCode.CONFIGURATION
    assert "cancel_order" in str(caught.value)


def test_examples_file_must_hold_lists_of_strings(intents_module: ModuleType, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("track_order: where is my order\n", encoding="utf-8")
    with pytest.raises(CopilotError) as caught:
        intents_module.load_intents(bad)
    assert caught.value.code is ErrorCode.CONFIGURATION


@pytest.mark.shared
def test_declared_names_match_the_shared_data(shared_data: Path) -> None:
    tools = json.loads((shared_data / "tau2-retail" / "tools.json").read_text(encoding="utf-8"))
    assert {tool["name"] for tool in tools} == RETAIL_TOOLS
    with (shared_data / "bitext-support" / "intents_dev.csv").open(encoding="utf-8") as f:
        assert {row["intent"] for row in csv.DictReader(f)} == BITEXT_INTENTS


@pytest.mark.shared
def test_examples_are_our_own_not_copies_of_the_dev_set(
    intents: tuple[Intent, ...], shared_data: Path
) -> None:
    with (shared_data / "bitext-support" / "intents_dev.csv").open(encoding="utf-8") as f:
        dev = {normalized(row["instruction"]) for row in csv.DictReader(f)}
    copies = [e for intent in intents for e in intent.examples if normalized(e) in dev]
    assert copies == []
