"""Exchanges in the customer's words, through the real graph and gateway on the demo store: the item is chosen
by name from the order, the new item from the product's variants by the option values asked for, the payment
method from the saved methods; an ambiguous or unavailable option becomes a question, never a guessed id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copilot.llm import variants
from copilot.settings import Settings
from copilot.wiring import System, open_system
from tests.api.support import SECRET
from tests.llm.test_returns_by_name import Sink, _say
from tools.retail.demo_data import generate

ORDER = "#W0000002"  # Alex's delivered order: Mechanical Keyboard (clicky, full) and Headphones


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[System]:
    async with open_system(Settings(data_dir=tmp_path, secret=SECRET)) as opened:
        yield opened


def _store_variant(product_name: str, **options: str) -> dict[str, Any]:
    product = next(p for p in generate()["products"].values() if p["name"] == product_name)
    return next(v for v in product["variants"].values() if v["options"] == {**v["options"], **options})


def _offered(listed: str) -> set[tuple[str, ...]]:
    return {tuple(sorted(choice.split(", "))) for choice in listed.rstrip("?").split("; ")}


def _asked(sink: Sink) -> str:
    [message] = sink.of("message.completed")
    assert not sink.of("tool.preview")
    return str(message["text"])


async def test_exchange_by_name_and_option_then_the_payment_method(system: System) -> None:
    first = await _say(system, "x1", f"exchange the keyboard in order {ORDER} for the tactile one")
    looked = [c["tool"] for c in first.of("tool.requested")]
    assert looked == ["get_order_details", "get_product_details", "get_user_details"]
    asked = _asked(first)
    assert asked.startswith("Which saved payment method should settle the price difference ($5.82 to pay): ")
    assert "PayPal account" in asked and "Visa card ending in 4242" in asked
    second = await _say(system, "x1", "my paypal")
    [preview] = second.of("tool.preview")
    tactile = _store_variant("Mechanical Keyboard", **{"switch type": "tactile", "layout": "full"})
    assert preview["arguments"]["new_item_ids"] == [tactile["item_id"]]
    assert preview["arguments"]["payment_method_id"] == "paypal_0000001"
    assert "Headphones" not in " ".join(preview["sentences"])


async def test_a_named_method_in_the_request_needs_no_question(system: System) -> None:
    sink = await _say(
        system, "x2", f"please exchange the headphones from order {ORDER} for white, pay with my visa"
    )
    [preview] = sink.of("tool.preview")
    white = _store_variant("Headphones", type="over-ear", color="white", connectivity="wireless")
    assert preview["arguments"]["new_item_ids"] == [white["item_id"]]  # the other options kept
    assert preview["arguments"]["payment_method_id"] == "credit_card_0000001"


async def test_two_values_for_one_option_are_asked_back(system: System) -> None:
    asked = _asked(await _say(system, "x3", f"exchange the keyboard of order {ORDER} for linear or tactile"))
    assert asked.startswith(
        "You mentioned linear and tactile for the switch type — which option would you like"
    )
    assert "tactile, TKL" not in asked  # out of stock: not offered
    answer = await _say(system, "x3", "linear")
    assert _asked(answer).startswith("Which saved payment method")


async def test_an_out_of_stock_option_is_said_and_the_available_ones_listed(system: System) -> None:
    asked = _asked(await _say(system, "x4", f"exchange the keyboard in order {ORDER} for the tactile TKL"))
    lead, offered = asked.split(" — which option would you like instead: Mechanical Keyboard in ")
    assert lead.endswith("is out of stock") and {"tactile", "TKL"} <= set(lead.replace(",", " ").split())
    assert _offered(offered) == {
        ("TKL", "linear"),
        ("TKL", "clicky"),
        ("full", "linear"),
        ("full", "tactile"),
    }
    chose = await _say(system, "x4", "the linear TKL then, with the gift card")
    [preview] = chose.of("tool.preview")
    wanted = _store_variant("Mechanical Keyboard", **{"switch type": "linear", "layout": "TKL"})
    assert preview["arguments"]["new_item_ids"] == [wanted["item_id"]]
    assert (
        preview["arguments"]["payment_method_id"] == "gift_card_0000001"
    )  # balance 150 covers the difference


async def test_a_combination_the_product_lacks_is_said(system: System) -> None:
    asked = _asked(await _say(system, "x5", f"exchange the headphones in order {ORDER} for on-ear wired"))
    lead, offered = asked.split(" — which option would you like instead: Headphones in ")
    assert lead in ("Headphones doesn't come in on-ear, wired", "Headphones doesn't come in wired, on-ear")
    assert ("black", "over-ear", "wired") in _offered(offered)


async def test_no_option_named_lists_the_available_options(system: System) -> None:
    asked = _asked(await _say(system, "x6", f"I want to exchange the headphones from order {ORDER}"))
    lead, offered = asked.split(": Headphones in ")
    assert lead == "Which option would you like instead"  # only the available ones, not the customer's own
    assert _offered(offered) == {
        ("over-ear", "white", "wireless"),
        ("on-ear", "white", "wireless"),
        ("black", "over-ear", "wired"),
    }


def test_single_letter_sizes_and_numbers_are_option_values() -> None:
    shirt = next(p for p in PRODUCTS if p["name"] == "T-Shirt")
    line = {**next(iter(shirt["variants"].values())), "name": "T-Shirt"}
    sizes = {v["options"]["size"] for v in shirt["variants"].values() if v["available"]}
    size = sorted(sizes - {line["options"]["size"]})[0]
    choice = variants.choose(shirt, line, [f"I'm after size {size.lower()} instead"])
    assert choice.item_id is not None, choice.question
    assert shirt["variants"][choice.item_id]["options"]["size"] == size
    assert variants.requested(shirt, line["options"], [f"I'm after size {size}"]) == {"size": {size}}


PRODUCTS = [p for p in generate(users=1)["products"].values()]


@settings(max_examples=60, deadline=None)
@given(
    product=st.sampled_from(PRODUCTS),
    data=st.data(),
)
def test_a_chosen_new_item_is_an_available_variant_of_the_same_product_with_the_asked_values(
    product: dict[str, Any], data: st.DataObject
) -> None:
    lines = list(product["variants"].values())
    line = {**data.draw(st.sampled_from(lines)), "name": product["name"]}
    values = sorted({v for variant in lines for v in variant["options"].values()})
    said = data.draw(st.lists(st.sampled_from(values), max_size=3))
    choice = variants.choose(product, line, [f"exchange the {product['name']} for {' '.join(said)}"])
    assert (choice.item_id is None) != (choice.question is None)
    if choice.item_id is not None:
        new = product["variants"][choice.item_id]
        assert new["available"] and choice.item_id != line["item_id"]
        asked = variants.requested(product, line["options"], [" ".join(said)])
        assert all(new["options"][key] in wanted for key, wanted in asked.items())


async def test_a_name_not_in_the_order_lists_the_order_items(system: System) -> None:
    asked = _asked(await _say(system, "x7", f"exchange the backpack in order {ORDER} for a red one"))
    assert asked.startswith(
        f"Which items would you like to exchange? Order {ORDER} has: Mechanical Keyboard ("
    )
    answer = await _say(system, "x7", "the headphones, in white")
    assert _asked(answer).startswith("Which saved payment method should settle the price difference")
