"""Returns in the customer's words, through the real graph and gateway on the demo store: the item is chosen
by name from the order's own list and the refund destination from the saved methods ("to my gift card"); the
copilot fills the ids; when the customer has not said which, it lists the order's items by name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from copilot.events import EventType
from copilot.principal import Principal
from copilot.settings import Settings
from copilot.turns.request import TurnRequest, new_turn_id
from copilot.wiring import System, open_system
from tests.api.support import SECRET

ALEX = Principal("demo", "customer", "demo_customer_0001")


class Sink:
    def __init__(self) -> None:
        self.events: list[tuple[EventType, dict[str, Any]]] = []

    async def emit(self, type: EventType, data: dict[str, Any], *, turn_id: str | None = None) -> int:
        self.events.append((type, data))
        return len(self.events)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [data for type_, data in self.events if type_ == kind]


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[System]:
    async with open_system(Settings(data_dir=tmp_path, secret=SECRET)) as opened:
        yield opened


async def _say(system: System, cid: str, text: str) -> Sink:
    sink = Sink()
    await system.runner(TurnRequest(cid, new_turn_id(), ALEX, text=text), sink)
    return sink


async def test_return_by_item_name_to_the_gift_card(system: System) -> None:
    first = await _say(system, "c1", "I want to return the headphones from order #W0000002")
    assert [c["tool"] for c in first.of("tool.requested")] == ["get_order_details"]
    [asked] = first.of("message.completed")
    assert asked["text"].startswith("Where should the money go")
    second = await _say(system, "c1", "to my gift card please")
    [preview] = second.of("tool.preview")
    assert preview["arguments"]["payment_method_id"] == "gift_card_0000001"
    assert preview["sentences"][0] == "Return Headphones (over-ear, blue, wireless) from order #W0000002."
    assert preview["arguments"]["item_ids"] != [] and "Mechanical" not in " ".join(preview["sentences"])


async def test_without_an_item_name_the_order_items_are_listed_by_name(system: System) -> None:
    first = await _say(system, "c2", "please return an item of order #W0000002, back to the original card")
    [asked] = first.of("message.completed")
    assert asked["text"].startswith(
        "Which items would you like to return? Order #W0000002 has: Mechanical Keyboard ("
    )
    assert "Headphones (" in asked["text"] and not any(
        ch.isdigit() for ch in asked["text"].split("has:")[1][:12]
    )
    second = await _say(system, "c2", "the keyboard")
    [preview] = second.of("tool.preview")
    assert preview["sentences"][0].startswith("Return Mechanical Keyboard (")
    assert preview["arguments"]["payment_method_id"] == "gift_card_0000001"  # the order's original method
