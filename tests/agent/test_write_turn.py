"""A write turn: preview → interrupt (nothing changed) → human decision → execute exactly once."""

from __future__ import annotations

import json

from langchain_core.messages import AIMessage, ToolMessage

from tests.agent.conftest import CUSTOMER, Harness, MakeHarness, call

ORDER = "#W1000001"


async def _preview(h: Harness) -> str:
    sink = await h.say(f"Please cancel order {ORDER}")
    preview = sink.of("tool.preview")[0]
    assert preview["changes"][0]["changed"] == {"status": ["pending", "cancelled"]}
    assert preview["call_id"] == "w1" and preview["expires_at"]
    assert sink.events[-1][1] == {"status": "awaiting_confirmation"}
    assert "message.completed" not in sink.types()
    assert h.gateway.orders[ORDER]["status"] == "pending"
    return str(preview["preview_id"])


async def test_approved_write_executes_once(harness: MakeHarness) -> None:
    h = harness(call("cancel_pending_order", "w1", order_id=ORDER), AIMessage(content="Order cancelled."))
    preview_id = await _preview(h)

    h.gateway.decide(CUSTOMER, preview_id, approve=True)  # what the confirmations API does
    sink = await h.resume(preview_id, approved=True)

    assert sink.types()[0] == "tool.executed"
    assert h.gateway.orders[ORDER]["status"] == "cancelled"
    assert h.gateway.handler_runs == 1
    tool_results = [m for m in h.model.prompts[1] if isinstance(m, ToolMessage)]
    assert [json.loads(m.text)["ok"] for m in tool_results] == [True]
    assert sink.of("message.completed")[0]["actions"] == [
        {"call_id": "w1", "tool": "cancel_pending_order", "outcome": "executed", "preview_id": preview_id}
    ]
    assert sink.events[-1][1] == {"status": "completed"}

    again = await h.resume(preview_id, approved=True, turn_id="t3")
    assert again.of("error")[0]["code"] == "confirmation_invalid"
    assert "tool.executed" not in again.types()
    assert h.gateway.handler_runs == 1 and h.gateway.orders[ORDER]["status"] == "cancelled"


async def test_rejected_write_changes_nothing(harness: MakeHarness) -> None:
    h = harness(call("cancel_pending_order", "w1", order_id=ORDER), AIMessage(content="OK, I left it as is."))
    preview_id = await _preview(h)

    h.gateway.decide(CUSTOMER, preview_id, approve=False)
    sink = await h.resume(preview_id, approved=False)

    assert "tool.executed" not in sink.types()
    assert h.gateway.orders[ORDER]["status"] == "pending" and h.gateway.handler_runs == 0
    declined = h.model.prompts[1][-1]
    assert isinstance(declined, ToolMessage) and json.loads(declined.text)["error"]["code"] == "declined"
    assert sink.of("message.completed")[0]["actions"][0]["outcome"] == "declined"


async def test_resume_value_alone_never_authorises(harness: MakeHarness) -> None:
    h = harness(
        call("cancel_pending_order", "w1", order_id=ORDER), AIMessage(content="It was not confirmed.")
    )
    preview_id = await _preview(h)

    sink = await h.resume(preview_id, approved=True)  # no Gateway.decide: the human never approved

    assert sink.of("tool.error")[0]["code"] == "confirmation_required"
    assert h.gateway.orders[ORDER]["status"] == "pending" and h.gateway.handler_runs == 0


async def test_resume_with_other_preview_id_is_refused(harness: MakeHarness) -> None:
    h = harness(call("cancel_pending_order", "w1", order_id=ORDER), AIMessage(content="Cancelled."))
    preview_id = await _preview(h)

    sink = await h.resume("not-the-preview", approved=True)
    assert sink.of("error")[0]["code"] == "confirmation_mismatch"
    assert sink.events[-1][1] == {"status": "failed"}

    h.gateway.decide(CUSTOMER, preview_id, approve=True)
    sink = await h.resume(preview_id, approved=True, turn_id="t3")
    assert sink.types()[0] == "tool.executed" and h.gateway.handler_runs == 1


async def test_new_message_while_awaiting_closes_the_dangling_call(harness: MakeHarness) -> None:
    h = harness(call("cancel_pending_order", "w1", order_id=ORDER), AIMessage(content="Sure, what else?"))
    await _preview(h)

    sink = await h.say("Actually, never mind.", turn_id="t2")

    history = h.model.prompts[1][1:]
    assert isinstance(history[2], ToolMessage) and history[2].tool_call_id == "w1"
    assert json.loads(history[2].text)["error"]["code"] == "not_executed"
    assert history[3].text == "Actually, never mind."
    assert h.gateway.orders[ORDER]["status"] == "pending"
    assert sink.events[-1][1] == {"status": "completed"}
