"""Dialogue state in the offline model: yes/no counts as an answer only to our own yes/no question; a new
request after a non-answer is handled on its own; several requests in one message are handled in turn; every
way of asking for a person hands off (phrasings written for this test, not taken from any data set)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import Runnable

from copilot.llm import dialogue
from copilot.llm.policy import DECLINED_OFFER, NO_ANSWER
from tests.llm.conftest import only_call

Model = Runnable[LanguageModelInput, AIMessage]

PERSON = [
    "Can a person do it for me?",
    "could somebody from your team look into this",
    "I'd rather deal with an actual human",
    "get me someone who works there",
    "is there anyone I can talk to?",
    "agent please",
    "Representative.",
    "connect me with customer service",
    "I'm done with this bot",
    "can I speak with a real person about my refund",
    "put me through to support staff",
    "I want an employee to handle this",
]
NOT_PERSON = [
    "Can I order a gift for someone else?",
    "how do I add another person to my account",
    "where is my order #W2611340",
    "please cancel my order, I ordered it by mistake",
    "how fast is express shipping?",
    "Can my friend pick up the parcel?",
    "what payment methods do I have",
]


@pytest.mark.parametrize("text", PERSON)
def test_every_way_of_asking_for_a_person_hands_off(bound: Model, system: SystemMessage, text: str) -> None:
    assert dialogue.asks_for_person(text)
    assert only_call(bound.invoke([system, HumanMessage(text)]))["name"] == "transfer_to_human_agents"


@pytest.mark.parametrize("text", NOT_PERSON)
def test_requests_that_mention_other_people_are_not_handoffs(text: str) -> None:
    assert not dialogue.asks_for_person(text)


def _after_no_answer(bound: Model, system: SystemMessage, text: str) -> AIMessage:
    first = bound.invoke([system, HumanMessage("what is the meaning of life")])
    assert first.text == NO_ANSWER
    return bound.invoke([system, HumanMessage("what is the meaning of life"), first, HumanMessage(text)])


def test_a_new_request_after_a_non_answer_is_handled_on_its_own(bound: Model, system: SystemMessage) -> None:
    track = only_call(_after_no_answer(bound, system, "where is my order #W2611340?"))
    assert track == {"name": "get_order_details", "args": {"order_id": "#W2611340"}}
    cancel = only_call(_after_no_answer(bound, system, "please cancel #W2611340, I ordered it by mistake"))
    assert cancel["name"] == "cancel_pending_order"
    ok_then = only_call(_after_no_answer(bound, system, "ok, where is my order W2611340"))
    assert ok_then["name"] == "get_order_details"


@pytest.mark.parametrize("yes", ["yes", "sure", "please do", "ok", "Yes please, connect me"])
def test_yes_to_our_offer_hands_off(bound: Model, system: SystemMessage, yes: str) -> None:
    assert only_call(_after_no_answer(bound, system, yes))["name"] == "transfer_to_human_agents"


@pytest.mark.parametrize("no", ["no thanks", "nope", "not now", "no, that's all"])
def test_no_to_our_offer_is_taken_as_a_no(bound: Model, system: SystemMessage, no: str) -> None:
    assert _after_no_answer(bound, system, no).text == DECLINED_OFFER


def test_yes_without_a_pending_question_is_not_an_answer(bound: Model, system: SystemMessage) -> None:
    reply = bound.invoke([system, HumanMessage("yes")])
    assert not reply.tool_calls and reply.text != DECLINED_OFFER
    asked = bound.invoke([system, HumanMessage("I want to cancel my order")])  # asks for a value
    assert "Which order" in asked.text
    again = bound.invoke([system, HumanMessage("I want to cancel my order"), asked, HumanMessage("sure")])
    assert not again.tool_calls  # "sure" is no order number: we still need one


def test_a_new_request_instead_of_the_value_we_asked_for(bound: Model, system: SystemMessage) -> None:
    asked = bound.invoke([system, HumanMessage("I want to cancel my order")])
    reply = bound.invoke(
        [
            system,
            HumanMessage("I want to cancel my order"),
            asked,
            HumanMessage("where is my order #W2611340?"),
        ]
    )
    assert only_call(reply)["name"] == "get_order_details"


def _tool_result(call: AIMessage, body: object) -> ToolMessage:
    tool_call = call.tool_calls[0]
    return ToolMessage(content=json.dumps(body), tool_call_id=str(tool_call["id"]), name=tool_call["name"])


def test_two_requests_in_one_message_are_handled_in_turn(bound: Model, system: SystemMessage) -> None:
    ask = HumanMessage("Where is my order #W2611340, and how fast is express shipping?")
    call = bound.invoke([system, ask])
    assert only_call(call)["name"] == "get_order_details"
    order = {"order_id": "#W2611340", "status": "pending", "items": [{"name": "Lamp"}]}
    turns: list[BaseMessage] = [system, ask, call, _tool_result(call, {"ok": True, "result": order})]
    summary = bound.invoke(turns)
    assert "#W2611340 is pending" in summary.text
    assert "You also asked: “how fast is express shipping?”" in summary.text
    answered = bound.invoke([*turns, summary, HumanMessage("yes please")])
    assert "1-2 business days" in answered.text and "[shipping-options#2]" in answered.text


def test_two_questions_are_answered_then_listed_back(bound: Model, system: SystemMessage) -> None:
    ask = HumanMessage("How fast is express shipping? Also, how long do refunds for returned items take?")
    first = bound.invoke([system, ask])
    assert "1-2 business days" in first.text and "“" in first.text and first.text.endswith("next one?")
    second = bound.invoke([system, ask, first, HumanMessage("sure")])
    assert "5-7 business days" in second.text and "You also asked" not in second.text


@given(st.text(max_size=40))
def test_a_reply_is_never_both_yes_and_no(text: str) -> None:
    assert not (dialogue.is_yes(text) and dialogue.is_no(text))


@given(
    st.sampled_from(["yes", "sure", "ok", "please"]),
    st.sampled_from(["cancel order #W2611340", "where is it"]),
)
def test_an_affirmation_followed_by_a_request_is_the_request(yes: str, request: str) -> None:
    assert not dialogue.is_yes(f"{yes}, {request}")
