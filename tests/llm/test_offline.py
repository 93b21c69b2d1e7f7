from __future__ import annotations

import json
import re

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import Runnable

from copilot.llm.offline import OfflineChatModel
from copilot.llm.summaries import summarize
from tests.llm.conftest import only_call

Model = Runnable[LanguageModelInput, AIMessage]


def test_tracks_an_order_from_the_message(bound: Model, system: SystemMessage) -> None:
    reply = bound.invoke([system, HumanMessage("where is my order W2611340?")])
    assert only_call(reply) == {"name": "get_order_details", "args": {"order_id": "#W2611340"}}
    assert str(reply.tool_calls[0]["id"]).startswith("call_")


def test_asks_for_missing_order_then_reason_then_calls(bound: Model, system: SystemMessage) -> None:
    turns: list[HumanMessage | AIMessage] = [HumanMessage("I want to cancel my order")]
    ask = bound.invoke([system, *turns])
    assert not ask.tool_calls and "Which order would you like to cancel?" in ask.text
    turns += [ask, HumanMessage("#W2611340")]
    ask_reason = bound.invoke([system, *turns])
    assert "'no longer needed' or 'ordered by mistake'" in ask_reason.text
    turns += [ask_reason, HumanMessage("I don't need it anymore")]
    call = bound.invoke([system, *turns])
    expected = {"order_id": "#W2611340", "reason": "no longer needed"}
    assert only_call(call) == {"name": "cancel_pending_order", "args": expected}


def test_fills_user_id_from_the_principal(bound: Model, system: SystemMessage) -> None:
    reply = bound.invoke(
        [system, HumanMessage("please set up my new shipping address 9 Elm St, Denver, CO 80202")]
    )
    call = only_call(reply)
    assert call["name"] == "modify_user_address"
    assert call["args"]["user_id"] == "ethan_kim_8860" and call["args"]["zip"] == "80202"


def test_only_bound_tools_are_called(offline: OfflineChatModel, system: SystemMessage) -> None:
    reply = offline.invoke([system, HumanMessage("where is my order W2611340?")])
    assert reply.tool_calls == []


def test_answers_with_citations_from_the_context(bound: Model, system: SystemMessage) -> None:
    reply = bound.invoke([system, HumanMessage("how fast is express shipping?")])
    cited = set(re.findall(r"\[([^\]]+)\]", reply.text))
    assert cited == {"shipping-options#2"} and "1-2 business days" in reply.text


def test_offers_a_human_when_nothing_fits(bound: Model, system: SystemMessage) -> None:
    reply = bound.invoke([system, HumanMessage("what is the meaning of life")])
    assert not reply.tool_calls and "human agent?" in reply.text
    accepted = bound.invoke([system, HumanMessage("what is the meaning of life"), reply, HumanMessage("yes")])
    assert only_call(accepted)["name"] == "transfer_to_human_agents"


def test_hands_off_when_asked_for_a_person(bound: Model, system: SystemMessage) -> None:
    reply = bound.invoke([system, HumanMessage("let me speak to a representative")])
    call = only_call(reply)
    assert call["name"] == "transfer_to_human_agents" and "representative" in call["args"]["summary"]


def _after_tool(bound: Model, system: SystemMessage, tool: str, body: object) -> str:
    call = AIMessage(content="", tool_calls=[{"name": tool, "args": {}, "id": "call_1", "type": "tool_call"}])
    result = ToolMessage(content=json.dumps(body), tool_call_id="call_1", name=tool)
    return bound.invoke([system, HumanMessage("hi"), call, result]).text


def test_tool_result_summaries(bound: Model, system: SystemMessage) -> None:
    order = {
        "order_id": "#W1",
        "status": "processed",
        "items": [{"name": "Lamp"}],
        "fulfillments": [{"tracking_id": ["123456789012"], "item_ids": []}],
    }
    text = _after_tool(bound, system, "get_order_details", {"ok": True, "result": order})
    assert "#W1 is processed" in text and "123456789012" in text
    preview = {"ok": True, "status": "awaiting_confirmation", "preview_id": "p1", "summary": "Cancel #W1"}
    text = _after_tool(bound, system, "cancel_pending_order", preview)
    assert text == "I've prepared this: Cancel #W1. Please confirm or cancel."
    done = {"ok": True, "result": {"order_id": "#W1", "status": "cancelled"}}
    assert _after_tool(bound, system, "cancel_pending_order", done).startswith(
        "Done — order #W1 is now cancelled"
    )
    denied = {"ok": False, "error": {"code": "denied", "message": "Not your order"}}
    assert "Not your order" in _after_tool(bound, system, "get_order_details", denied)
    transfer = _after_tool(
        bound, system, "transfer_to_human_agents", {"ok": True, "result": "Transfer successful"}
    )
    assert transfer == "YOU ARE BEING TRANSFERRED TO A HUMAN AGENT. PLEASE HOLD ON."


def test_streams_text_as_several_chunks(bound: Model, system: SystemMessage) -> None:
    chunks = list(bound.stream([system, HumanMessage("how fast is express shipping?")]))
    texts = [c.text for c in chunks if isinstance(c, AIMessageChunk) and c.text]
    assert len(texts) > 3
    full = bound.invoke([system, HumanMessage("how fast is express shipping?")])
    assert "".join(texts) == full.text


async def test_streams_a_tool_call_in_one_chunk(bound: Model, system: SystemMessage) -> None:
    chunks = [c async for c in bound.astream([system, HumanMessage("track order W2611340")])]
    calls = [c for c in chunks if isinstance(c, AIMessageChunk) and c.tool_call_chunks]
    assert len(calls) == 1 and calls[0].tool_call_chunks[0]["name"] == "get_order_details"


def test_deterministic(bound: Model, system: SystemMessage) -> None:
    messages = [system, HumanMessage("cancel W2611340, ordered it by mistake")]
    assert bound.invoke(messages).tool_calls == bound.invoke(messages).tool_calls


def test_a_single_shared_word_is_not_an_answer(bound: Model) -> None:
    passage = '<passage id="fees#3" title="Fees">The absence of fees does not mean every order can be cancelled.</passage>'
    system = SystemMessage(
        content=f"<context>\nprincipal: role=customer user_id=u tenant=demo\n{passage}\n</context>"
    )
    reply = bound.invoke([system, HumanMessage("what is the meaning of life")])
    assert "[fees#3]" not in reply.text and "human agent?" in reply.text


def test_a_role_denial_is_explained_to_the_customer_not_echoed() -> None:
    content = json.dumps(
        {
            "ok": False,
            "error": {
                "code": "denied",
                "message": "The guest role may not call get_order_details. Offer another way to help.",
            },
        }
    )
    text = summarize("get_order_details", content, "read")
    assert "sign in" in text and "human agent" in text
    assert "get_order_details" not in text and "role" not in text
