"""A write turn on the real gateway: preview → interrupt (nothing changed) → human decision → execute once."""

from __future__ import annotations

import json
from typing import TypedDict

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from copilot.agent.runner import run_turn
from copilot.principal import Principal
from tests.agent.conftest import Harness, MakeHarness, call
from tests.agent.fakes import RecordingSink
from tests.agent.world import CUSTOMER, PENDING


def cancel() -> AIMessage:
    return call("cancel_pending_order", "w1", order_id=PENDING, reason="no longer needed")


async def _preview(h: Harness) -> str:
    sink = await h.say(f"Please cancel order {PENDING}, I no longer need it")
    preview = sink.of("tool.preview")[0]
    order = next(c for c in preview["changes"] if c["kind"] == "order")
    assert order["changed"]["status"] == ["pending", "cancelled"]
    assert preview["call_id"] == "w1" and preview["expires_at"] and preview["summary"]
    assert sink.events[-1][1] == {"status": "awaiting_confirmation"}
    assert "message.completed" not in sink.types()
    assert h.world.status(PENDING) == "pending" and h.world.executions() == 0
    return str(preview["preview_id"])


async def test_approved_write_executes_once(harness: MakeHarness) -> None:
    h = harness(cancel(), AIMessage(content="Your order is cancelled."))
    preview_id = await _preview(h)

    h.world.gateway.decide(CUSTOMER, preview_id, approve=True)  # what the confirmations API does
    sink = await h.resume(preview_id, approved=True)

    assert sink.types()[0] == "tool.executed"
    assert h.world.status(PENDING) == "cancelled" and h.world.executions() == 1
    tool_results = [m for m in h.model.prompts[1] if isinstance(m, ToolMessage)]
    assert [json.loads(m.text)["ok"] for m in tool_results] == [True]
    assert sink.of("message.completed")[0]["actions"] == [
        {"call_id": "w1", "tool": "cancel_pending_order", "outcome": "executed", "preview_id": preview_id}
    ]
    assert sink.events[-1][1] == {"status": "completed"}

    again = await h.resume(preview_id, approved=True, turn_id="t3")
    assert again.of("error")[0]["code"] == "confirmation_invalid"
    assert "tool.executed" not in again.types()
    assert h.world.executions() == 1 and h.model.remaining == 0


async def test_rejected_write_changes_nothing(harness: MakeHarness) -> None:
    h = harness(cancel(), AIMessage(content="OK, I left it as is."))
    preview_id = await _preview(h)

    h.world.gateway.decide(CUSTOMER, preview_id, approve=False)
    sink = await h.resume(preview_id, approved=False)

    assert "tool.executed" not in sink.types()
    assert h.world.status(PENDING) == "pending" and h.world.executions() == 0
    declined = h.model.prompts[1][-1]
    assert isinstance(declined, ToolMessage) and json.loads(declined.text)["error"]["code"] == "declined"
    assert sink.of("message.completed")[0]["actions"][0]["outcome"] == "declined"


async def test_resume_value_alone_never_authorises(harness: MakeHarness) -> None:
    h = harness(cancel(), AIMessage(content="It was not confirmed."))
    preview_id = await _preview(h)

    sink = await h.resume(preview_id, approved=True)  # no Gateway.decide: the human never approved

    refused = sink.of("tool.denied") + sink.of("tool.error")
    assert refused[0]["code"] == "confirmation_required"
    assert h.world.status(PENDING) == "pending" and h.world.executions() == 0
    assert json.loads(h.model.prompts[1][-1].text)["ok"] is False


async def test_resume_with_other_preview_id_is_refused(harness: MakeHarness) -> None:
    h = harness(cancel(), AIMessage(content="Cancelled."))
    preview_id = await _preview(h)

    sink = await h.resume("not-the-preview", approved=True)
    assert sink.of("error")[0]["code"] == "confirmation_mismatch"
    assert sink.events[-1][1] == {"status": "failed"}

    h.world.gateway.decide(CUSTOMER, preview_id, approve=True)
    sink = await h.resume(preview_id, approved=True, turn_id="t3")
    assert sink.types()[0] == "tool.executed" and h.world.executions() == 1


async def test_tool_output_saying_yes_is_not_a_confirmation(harness: MakeHarness) -> None:
    """A model that answers "confirmed" (e.g. echoing injected text) cannot move past the interrupt."""
    h = harness(cancel(), AIMessage(content="Confirmed: yes, approved."))
    preview_id = await _preview(h)
    sink = await h.say("yes, approved, confirmed", turn_id="t2")  # a chat "yes" is not the confirmation API
    assert h.world.status(PENDING) == "pending" and h.world.executions() == 0
    assert "tool.executed" not in sink.types()
    results = [m for m in h.model.prompts[1] if isinstance(m, ToolMessage)]
    assert json.loads(results[0].text)["error"]["code"] == "not_executed"
    h.world.gateway.decide(CUSTOMER, preview_id, approve=True)
    late = await h.resume(preview_id, approved=True, turn_id="t3")
    assert late.of("error")[0]["code"] == "confirmation_invalid"


async def test_new_message_while_awaiting_closes_the_dangling_call(harness: MakeHarness) -> None:
    h = harness(cancel(), AIMessage(content="Sure, what else?"))
    await _preview(h)

    sink = await h.say("Actually, never mind.", turn_id="t2")

    history = h.model.prompts[1][1:]
    assert isinstance(history[2], ToolMessage) and history[2].tool_call_id == "w1"
    assert json.loads(history[2].text)["error"]["code"] == "not_executed"
    assert history[3].text == "Actually, never mind."
    assert h.world.status(PENDING) == "pending"
    assert sink.events[-1][1] == {"status": "completed"}


async def test_two_writes_in_one_message_are_confirmed_one_by_one(harness: MakeHarness) -> None:
    address = {"address1": "2 New Street", "address2": "", "city": "Austin", "state": "TX"}
    both = AIMessage(
        content="",
        tool_calls=[
            {
                "name": "cancel_pending_order",
                "args": {"order_id": PENDING, "reason": "no longer needed"},
                "id": "w1",
            },
            {
                "name": "modify_user_address",
                "args": {"user_id": CUSTOMER.user_id, **address, "country": "USA", "zip": "73301"},
                "id": "w2",
            },
        ],
    )
    h = harness(both, AIMessage(content="Cancelled the order; kept your address."))
    sink = await h.say(f"Cancel {PENDING} and move me to Austin")
    first, second = (p["preview_id"] for p in sink.of("tool.preview"))
    assert sink.events[-1][1] == {"status": "awaiting_confirmation"}

    h.world.gateway.decide(CUSTOMER, first, approve=True)
    sink = await h.resume(first, approved=True)
    assert sink.types()[0] == "tool.executed"
    assert sink.events[-1][1] == {"status": "awaiting_confirmation"}  # now the second preview waits

    h.world.gateway.decide(CUSTOMER, second, approve=False)
    sink = await h.resume(second, approved=False, turn_id="t3")
    assert sink.events[-1][1] == {"status": "completed"}
    outcomes = [a["outcome"] for a in sink.of("message.completed")[0]["actions"]]
    assert outcomes == ["executed", "declined"]
    assert h.world.status(PENDING) == "cancelled" and h.world.executions() == 1


async def test_malformed_resume_inside_the_graph_keeps_it_resumable(harness: MakeHarness) -> None:
    """Bypassing run_turn's check, a bad resume value re-interrupts instead of wedging the thread."""
    h = harness(cancel(), AIMessage(content="Cancelled."))
    preview_id = await _preview(h)
    config: RunnableConfig = {"configurable": {"thread_id": h.conversation_id, "principal": CUSTOMER}}
    await h.graph.ainvoke(Command(resume={"preview_id": "other", "approved": True}), config)
    state = await h.graph.aget_state(config)
    assert state.interrupts and h.world.executions() == 0

    h.world.gateway.decide(CUSTOMER, preview_id, approve=True)
    sink = await h.resume(preview_id, approved=True)
    assert sink.types()[0] == "tool.executed" and h.world.executions() == 1


async def test_the_same_change_twice_in_one_message_is_previewed_once(harness: MakeHarness) -> None:
    args = {"order_id": PENDING, "reason": "no longer needed"}
    twice = AIMessage(
        content="",
        tool_calls=[
            {"name": "cancel_pending_order", "args": args, "id": "w1"},
            {"name": "cancel_pending_order", "args": dict(reversed(args.items())), "id": "w2"},
        ],
    )
    h = harness(twice, AIMessage(content="Cancelled."))
    sink = await h.say(f"Cancel {PENDING}, cancel it!")
    assert [p["call_id"] for p in sink.of("tool.preview")] == ["w1"]
    preview_id = sink.of("tool.preview")[0]["preview_id"]
    h.world.gateway.decide(CUSTOMER, preview_id, approve=True)
    done = await h.resume(preview_id, approved=True)
    assert done.events[-1][1] == {"status": "completed"} and h.world.executions() == 1
    results = {m.tool_call_id: json.loads(m.text) for m in h.model.prompts[1] if isinstance(m, ToolMessage)}
    assert results["w2"]["error"]["code"] == "already_handled"
    assert results["w2"]["error"]["preview_id"] == preview_id


class TurnArgs(TypedDict):
    conversation_id: str
    turn_id: str
    principal: Principal
    sink: RecordingSink


class WorkerDied(BaseException):
    """Stands for kill -9 right after the write: nothing after it runs, the checkpoint stays."""


async def test_a_resume_recovered_after_its_write_asks_before_answering(harness: MakeHarness) -> None:
    """The worker died after `execute`; a human claimed the conversation; the recovered turn must not ask the
    model or post an answer into the human's conversation, and the write is not run again."""
    h = harness(cancel())  # no scripted answer: the model must not be called after the write
    preview_id = await _preview(h)
    h.world.gateway.decide(CUSTOMER, preview_id, approve=True)
    resume = {"preview_id": preview_id, "approved": True}
    turn = TurnArgs(conversation_id=h.conversation_id, turn_id="t2", principal=CUSTOMER, sink=h.sink)

    async def dies() -> bool:
        raise WorkerDied

    async def a_human_owns_it() -> bool:
        return False

    h.sink.clear()
    with pytest.raises(WorkerDied):
        await run_turn(h.graph, **turn, resume=resume, may_answer=dies)
    assert h.sink.types() == ["tool.executed"] and h.world.executions() == 1

    h.sink.clear()
    status = await run_turn(h.graph, **turn, resume=resume, attempt=2, may_answer=a_human_owns_it)
    assert status == "handoff"
    assert not {"message.delta", "message.completed", "tool.executed"} & set(h.sink.types())
    assert h.world.status(PENDING) == "cancelled" and h.world.executions() == 1
