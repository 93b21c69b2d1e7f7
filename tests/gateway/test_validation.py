"""Validation stage: strict JSON Schema, no extras, canonical identifiers; the validated object is executed."""

from __future__ import annotations

from typing import Any

import pytest

from copilot.gateway.gateway import Gateway
from tests.gateway.conftest import who


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"order_id": "#W0000001", "user_id": "bob"}, "Unexpected argument"),
        ({}, "required"),
        ({"order_id": ["#W0000001"]}, "is not of type 'string'"),
        ({"order_id": 12345}, "is not of type 'string'"),
        ({"order_id": "#W000000１x"}, "not a valid identifier"),
        ({"order_id": "#W0000001\u200b"}, "not a valid identifier"),
        ({"order_id": "#W000000\u0661"}, "not a valid identifier"),
    ],
)
def test_invalid_arguments_are_rejected(gateway: Gateway, arguments: dict[str, Any], fragment: str) -> None:
    result = gateway.call(who("customer"), "get_order_details", arguments)
    assert result.outcome == "invalid"
    assert result.code == "invalid_arguments"
    assert result.message is not None and fragment in result.message
    assert result.arguments == {}


def test_cyrillic_confusable_in_id_is_invalid_not_a_lookup(gateway: Gateway) -> None:
    result = gateway.call(who("customer"), "get_user_details", {"user_id": "аlice"})  # Cyrillic а
    assert (result.outcome, result.code) == ("invalid", "invalid_arguments")


@pytest.mark.parametrize("arguments", [[1, 2], "order", None, 3])
def test_arguments_must_be_an_object(gateway: Gateway, arguments: object) -> None:
    result = gateway.call(who("agent", "ann"), "calculate", arguments)
    assert result.outcome == "invalid"
    assert "JSON object" in (result.message or "")


@pytest.mark.parametrize(
    "arguments",
    [
        {"quantity": True},
        {"quantity": 1.5},
        {"quantity": 2, "ratio": float("nan")},
        {"quantity": 2, "ratio": float("inf")},
        {"quantity": 2, "ratio": False},
        {"quantity": 2, "ratio": {1, 2}},
    ],
)
def test_numbers_are_strict(gateway: Gateway, arguments: dict[str, Any]) -> None:
    result = gateway.call(who("agent", "ann"), "calculate", arguments)
    assert result.outcome == "invalid", result


def test_valid_numbers_execute(gateway: Gateway) -> None:
    result = gateway.call(who("agent", "ann"), "calculate", {"quantity": 3, "ratio": 0.5})
    assert (result.outcome, result.result) == ("executed", 1.5)


def test_extra_properties_rejected_even_when_the_schema_forgets(gateway: Gateway) -> None:
    result = gateway.call(who("guest", "g"), "get_product_details", {"product_id": "p1", "x": 1})
    assert result.outcome == "invalid"
    ok = gateway.call(who("guest", "g"), "get_product_details", {"product_id": "p1"})
    assert ok.outcome == "executed"


def test_identifiers_are_canonicalised_before_ownership(gateway: Gateway) -> None:
    for raw in ("  #w0000001 ", "#Ｗ" + "０" * 6 + "１", "W0000001"):
        result = gateway.call(who("customer"), "get_order_details", {"order_id": raw})
        assert result.outcome == "executed", (raw, result)
        assert result.arguments == {"order_id": "#W0000001"}
        assert result.result["id"] == "#W0000001"


def test_caller_cannot_mutate_the_validated_object(gateway: Gateway) -> None:
    arguments = {"order_id": "#W0000001", "reason": "no longer needed"}
    result = gateway.call(who("customer"), "cancel_pending_order", arguments)
    assert result.preview is not None
    arguments["order_id"] = "#W0000002"
    assert result.preview.arguments["order_id"] == "#W0000001"
    assert result.arguments["order_id"] == "#W0000001"


def test_unknown_tool_is_invalid(gateway: Gateway) -> None:
    result = gateway.call(who("agent", "ann"), "drop_database", {})
    assert (result.outcome, result.code) == ("invalid", "unknown_tool")
