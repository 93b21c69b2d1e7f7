"""Each model failure of issue 9's "Why", over HTTP, with the real langchain-openai client against the
scripted OpenAI-compatible server: the turn ends with a clear event and the conversation goes on."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from copilot.llm.testing import Fail, Malformed, Reply, Script, Stall, ToolCall, WireServer
from tests.api.support import token
from tests.llm.wire.conversation import (
    HUNG,
    PENDING,
    TIMEOUTS,
    Chat,
    completed,
    copilot_on,
    error_of,
    kinds,
)

SCRIPT = Script()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, WireServer]]:
    settings = TIMEOUTS | {"model_temperature": 0.3, "model_max_tokens": 77, "model_tool_choice": "auto"}
    with copilot_on(tmp_path_factory.mktemp("copilot"), SCRIPT, **settings) as pair:
        yield pair


@pytest.fixture
def model(running: tuple[str, WireServer], monkeypatch: pytest.MonkeyPatch) -> Iterator[WireServer]:
    SCRIPT.reset()
    running[1].log.rejected.clear()
    running[1].log.requests.clear()
    yield running[1]
    running[1].log.assert_clean()  # no request the real API would refuse (e.g. an unanswered tool call)
    SCRIPT.assert_consumed()


@pytest.fixture
async def chat(running: tuple[str, WireServer], model: WireServer) -> AsyncIterator[Chat]:
    async with httpx.AsyncClient(base_url=running[0], timeout=30) as client:
        yield await Chat(client).start()


async def test_malformed_tool_arguments_get_an_invalid_result_and_the_conversation_goes_on(
    chat: Chat,
) -> None:
    SCRIPT.reset(
        Reply(tool_calls=[ToolCall("get_order_details", "order_id=#W0000001 (no JSON)", id="call_bad")]),
        Reply(tool_calls=[ToolCall("get_order_details", {"order_id": PENDING}, id="call_good")]),
        Reply(text="Your order #W0000001 is pending."),
        Reply(text="You're welcome!"),
    )
    first = await chat.say("where is my order #W0000001?")
    invalid = [f.data for f in first if f.event == "tool.invalid"]
    assert invalid and invalid[0]["call_id"] == "call_bad" and invalid[0]["code"] == "invalid_arguments"
    assert "tool.executed" in kinds(first) and completed(first) == "completed"
    assert completed(await chat.say("thanks")) == "completed"  # a later turn is accepted by the API too


async def test_the_model_settings_reach_the_wire(chat: Chat, model: WireServer) -> None:
    SCRIPT.reset(Reply(text="Hello!"))
    assert completed(await chat.say("hi")) == "completed"
    body = model.log.requests[-1].body  # COPILOT_MODEL_TEMPERATURE / _MAX_TOKENS / _TOOL_CHOICE
    assert (body["temperature"], body["max_completion_tokens"], body["tool_choice"]) == (0.3, 77, "auto")
    assert body["tools"] and "api_key" not in str(model.log.requests[-1].headers).lower()


async def test_a_hung_model_times_out_with_a_clear_error(chat: Chat) -> None:
    SCRIPT.reset(Stall(HUNG), Stall(HUNG), Reply(text="Back again."))
    hung = await chat.say("hello?")
    error = error_of(hung)
    assert error["code"] == "model_timeout" and error["handoff"] == "offered"
    assert "human" in error["message"] and completed(hung) == "failed"
    assert completed(await chat.say("hello again")) == "completed"


async def test_429_waits_for_retry_after_then_answers(chat: Chat, model: WireServer) -> None:
    SCRIPT.reset(Fail(429, "rate limited", retry_after=0.4), Reply(text="Hello!"))
    frames = await chat.say("hi")
    assert completed(frames) == "completed" and "error" not in kinds(frames)
    first, second = model.log.requests[-2:]
    assert second.at - first.at >= 0.4


async def test_429_beyond_the_wait_we_accept_is_model_rate_limited(chat: Chat) -> None:
    SCRIPT.reset(Fail(429, "come back in an hour", retry_after=3600), Reply(text="Hello!"))
    limited = await chat.say("hi")
    assert error_of(limited)["code"] == "model_rate_limited" and completed(limited) == "failed"
    assert completed(await chat.say("hi again")) == "completed"


async def test_5xx_is_retried_then_model_unavailable(chat: Chat) -> None:
    SCRIPT.reset(Fail(500), Reply(text="Recovered."), Fail(503), Fail(503), Reply(text="ok"))
    assert completed(await chat.say("one")) == "completed"
    down = await chat.say("two")
    assert error_of(down)["code"] == "model_unavailable" and completed(down) == "failed"
    assert completed(await chat.say("three")) == "completed"


async def test_a_reply_that_is_not_json_is_model_output_invalid(chat: Chat) -> None:
    SCRIPT.reset(Malformed(), Malformed(), Reply(text="Hello!"))  # the retry gets the same broken body
    broken = await chat.say("hi")
    error = error_of(broken)
    assert error["code"] == "model_output_invalid" and error["handoff"] == "offered"
    assert completed(broken) == "failed" and "message.completed" not in kinds(broken)
    assert completed(await chat.say("hi again")) == "completed"


async def test_model_server_restart(chat: Chat, model: WireServer) -> None:
    SCRIPT.reset(Reply(text="Hi!"), Reply(text="Still here."))
    assert completed(await chat.say("hello")) == "completed"
    model.stop()
    try:
        down = await chat.say("are you there?")
    finally:
        model.start()
    assert error_of(down)["code"] == "model_unavailable" and completed(down) == "failed"
    assert completed(await chat.say("and now?")) == "completed"


async def test_repeated_identical_failing_call_hands_off(chat: Chat) -> None:
    stranger = ToolCall("get_order_details", {"order_id": "#W0000004"})  # another customer's order
    SCRIPT.reset(Reply(tool_calls=[stranger]), Reply(tool_calls=[stranger]))
    frames = await chat.say("where is order #W0000004?")
    handoff = [f.data for f in frames if f.event == "handoff.requested"]
    assert handoff and handoff[0]["reason"] == "repeated_tool_failure"
    assert completed(frames) == "handoff"


async def test_a_tool_call_loop_stops_at_the_turn_budget(chat: Chat, model: WireServer) -> None:
    calls = [
        Reply(tool_calls=[ToolCall("get_order_details", {"order_id": PENDING}, id=f"c{i}")]) for i in range(4)
    ]
    SCRIPT.reset(*calls)
    frames = await chat.say("where is my order?")
    error = error_of(frames)
    assert error["code"] == "turn_budget_exceeded" and error["handoff"] == "offered"
    assert completed(frames) == "failed" and len(model.log.requests) == 4  # COPILOT_TURN_MAX_MODEL_CALLS=4


async def test_agent_assist_on_a_hung_model_is_a_typed_timeout_not_a_500(chat: Chat) -> None:
    SCRIPT.reset(Reply(text="Your order is on its way."), Stall(HUNG), Stall(HUNG))
    assert completed(await chat.say("where is my order #W0000001?")) == "completed"
    started = time.monotonic()
    response = await chat.client.get(f"/v1/conversations/{chat.cid}/assist", headers=token("agent", "alice"))
    assert response.status_code == 504, response.text
    took = time.monotonic() - started  # two attempts of the 5 s budget, not the hung model's minute
    assert response.json()["error"]["code"] == "model_timeout" and took < 2 * TIMEOUTS["model_timeout"] + 4
