"""Handoff (model, user, validation twice), validation repair, guard checks and run failures."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage

from copilot.agent.deps import TurnBudget
from copilot.agent.runner import RECURSION_LIMIT
from tests.agent.conftest import MakeHarness, call


async def test_model_transfer_hands_off(harness: MakeHarness) -> None:
    h = harness(call("transfer_to_human_agents", "h1", summary="Customer disputes a charge."))
    sink = await h.say("There is a charge I don't recognise")

    assert sink.of("handoff.requested") == [
        {"reason": "model_request", "summary": "Customer disputes a charge."}
    ]
    assert sink.of("message.completed")[0]["handoff"] is True
    assert sink.events[-1][1] == {"status": "handoff"}


async def test_user_asking_for_a_human_hands_off_without_the_model(harness: MakeHarness) -> None:
    h = harness()
    sink = await h.say("I want to talk to a human agent please")
    assert sink.of("handoff.requested")[0]["reason"] == "user_request"
    assert sink.events[-1][1] == {"status": "handoff"}
    assert h.model.prompts == []


async def test_bad_citation_is_repaired_once(harness: MakeHarness) -> None:
    h = harness(
        AIMessage(content="Returns take 30 days [made-up#7]."),
        AIMessage(content="Items can be returned within 30 days of delivery [returns-policy#1]."),
    )
    sink = await h.say("How long do I have to return something?")

    note = h.model.prompts[1][-1]
    assert isinstance(note, HumanMessage) and "[made-up#7]" in note.text
    streamed = sink.of("message.delta")
    assert (
        "".join(d["text"] for d in streamed)
        == "Items can be returned within 30 days of delivery [returns-policy#1]."
    )
    assert "made-up" not in str(sink.events)  # the rejected answer never reached the customer
    completed = sink.of("message.completed")
    assert [c["citations"] for c in completed] == [
        [{"id": "returns-policy#1", "title": "Returns and refunds"}]
    ]
    assert sink.events[-1][1] == {"status": "completed"}


async def test_validation_failing_twice_hands_off(harness: MakeHarness) -> None:
    h = harness(AIMessage(content="See [other-doc#1]."), AIMessage(content="See [other-doc#2]."))
    sink = await h.say("How long do I have to return something?")

    handoff = sink.of("handoff.requested")[0]
    assert handoff["reason"] == "validation_failed" and "[other-doc#2]" in handoff["summary"]
    assert sink.events[-1][1] == {"status": "handoff"}
    assert h.model.remaining == 0


async def test_empty_answer_is_repaired(harness: MakeHarness) -> None:
    h = harness(AIMessage(content=""), AIMessage(content="Standard shipping takes 3-5 days [shipping#1]."))
    sink = await h.say("How long does shipping take?")
    assert sink.of("message.completed")[0]["citations"][0]["id"] == "shipping#1"


async def test_guard_answers_empty_and_too_long_input_politely(harness: MakeHarness) -> None:
    h = harness()
    sink = await h.say("   ")
    assert "didn't catch" in sink.of("message.completed")[0]["text"]
    sink = await h.say("x" * 5000, turn_id="t2")
    assert "too long" in sink.of("message.completed")[0]["text"]
    assert sink.events[-1][1] == {"status": "completed"}
    assert h.model.prompts == []


async def test_model_failure_emits_error_then_failed(harness: MakeHarness) -> None:
    h = harness()  # the scripted model has nothing to say: any call fails
    sink = await h.say("Hello there")
    assert sink.types()[-2:] == ["error", "turn.completed"]
    assert sink.of("error")[0]["code"] == "internal"
    assert sink.events[-1][1] == {"status": "failed"}


async def test_endless_tool_loop_fails_the_turn_cleanly(harness: MakeHarness) -> None:
    plans = TurnBudget().model_calls  # the turn budget stops it well before the step limit
    assert plans < (RECURSION_LIMIT - 2) // 2
    h = harness(*(call("list_all_product_types", f"c{i}") for i in range(plans)))
    sink = await h.say("Loop forever")
    error = sink.of("error")[0]
    assert error["code"] == "turn_budget_exceeded" and error["handoff"] == "offered"
    assert error["message"].startswith("The assistant needed too many steps")
    assert sink.events[-1][1] == {"status": "failed"}


async def test_the_tool_call_budget_stops_the_turn(harness: MakeHarness) -> None:
    h = harness(*(call("list_all_product_types", f"c{i}") for i in range(3)), budget=TurnBudget(tool_calls=2))
    sink = await h.say("Loop forever")
    error = sink.of("error")[0]
    assert error["code"] == "turn_budget_exceeded" and error["handoff"] == "offered"
    assert len(sink.of("tool.executed")) == 2 and sink.events[-1][1] == {"status": "failed"}


async def test_the_token_budget_stops_the_turn(harness: MakeHarness) -> None:
    h = harness(call("list_all_product_types", "c0"), budget=TurnBudget(tokens=50))  # one prompt is more
    sink = await h.say("What do you sell?")
    error = sink.of("error")[0]
    assert error["code"] == "turn_budget_exceeded" and error["handoff"] == "offered"
    assert sink.events[-1][1] == {"status": "failed"}


async def test_a_claimed_action_that_never_ran_is_not_streamed_and_hands_off(harness: MakeHarness) -> None:
    claim = "Done! Your order is now cancelled and refunded."
    h = harness(AIMessage(content=claim), AIMessage(content=claim))
    sink = await h.say("cancel my order")
    assert claim not in str(sink.of("message.delta")) and claim not in str(sink.of("message.completed"))
    handoff = sink.of("handoff.requested")[0]
    assert handoff["reason"] == "validation_failed" and "no such change was executed" in handoff["summary"]
    note = h.model.prompts[1][-1]
    assert isinstance(note, HumanMessage) and "no such change was executed" in note.text  # the one repair
