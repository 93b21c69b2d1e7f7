from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage

from copilot.llm.scripted import ScriptedChatModel, UnexpectedModelCall

SCHEMA = {"type": "function", "function": {"name": "get_order_details", "parameters": {"type": "object"}}}


def test_replays_steps_in_order_and_records_prompts() -> None:
    call = AIMessage(
        content="", tool_calls=[{"name": "get_order_details", "args": {"order_id": "#W1"}, "id": "c1"}]
    )
    model = ScriptedChatModel(script=[call, AIMessage(content="It shipped.")])
    bound = model.bind_tools([SCHEMA])
    assert bound.invoke([HumanMessage("where?")]).tool_calls[0]["args"] == {"order_id": "#W1"}
    assert bound.invoke([HumanMessage("and?")]).text == "It shipped."
    assert model.bound_tools == [["get_order_details"]] and len(model.prompts) == 2
    model.assert_consumed()


def test_fails_on_an_unexpected_extra_call() -> None:
    model = ScriptedChatModel(script=[])
    with pytest.raises(UnexpectedModelCall, match="unexpected model call #1"):
        model.invoke([HumanMessage("hi")])


def test_fails_when_steps_remain() -> None:
    model = ScriptedChatModel(script=[AIMessage(content="never said")])
    with pytest.raises(AssertionError, match="never said"):
        model.assert_consumed()


async def test_streams_words() -> None:
    model = ScriptedChatModel(script=[AIMessage(content="one two three")])
    chunks = [c async for c in model.astream([HumanMessage("hi")])]
    assert [c.text for c in chunks if isinstance(c, AIMessageChunk) and c.text] == ["one", " two", " three"]
