"""The scripted OpenAI-compatible server against the real langchain-openai client (HTTP on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_openai import ChatOpenAI

from copilot.llm.testing import Cut, Fail, Malformed, Reply, Script, Stall, ToolCall, WireServer, openai_app

LOOKUP = {
    "type": "function",
    "function": {
        "name": "get_order_details",
        "description": "Look up an order.",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
        },
    },
}


SCRIPT = Script()


@pytest.fixture(scope="module")
def shared() -> Iterator[WireServer]:
    with WireServer(openai_app(SCRIPT, api_key="sk-test")) as running:
        yield running


@pytest.fixture
def script() -> Script:
    SCRIPT.reset()
    return SCRIPT


@pytest.fixture
def server(shared: WireServer, script: Script) -> Iterator[WireServer]:
    shared.log.rejected.clear()
    shared.log.requests.clear()
    yield shared
    shared.log.assert_clean()
    script.assert_consumed()


Client = Callable[..., ChatOpenAI]


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    """ChatOpenAI over its own connection pool per test (langchain-openai caches its default pool by URL,
    across event loops)."""
    pools: list[httpx.AsyncClient] = []

    def make(server: WireServer, **kwargs: Any) -> ChatOpenAI:
        pools.append(httpx.AsyncClient())
        options: dict[str, Any] = {"max_retries": 0, "timeout": 5, "stream_usage": True, "api_key": "sk-test"}
        return ChatOpenAI(
            model="scripted", base_url=f"{server.url}/v1", http_async_client=pools[-1], **(options | kwargs)
        )

    yield make
    for pool in pools:
        await pool.aclose()


async def test_text_with_usage(server: WireServer, script: Script, client: Client) -> None:
    script.add(Reply(text="Your order ships tomorrow.", prompt_tokens=42))
    reply = await client(server).ainvoke([HumanMessage("where is my order?")])
    assert reply.content == "Your order ships tomorrow."
    assert reply.usage_metadata is not None and reply.usage_metadata["input_tokens"] == 42
    assert server.log.requests[0].stream is False


async def test_stream_carries_text_and_usage(server: WireServer, script: Script, client: Client) -> None:
    script.add(Reply(text="Streaming works token by token.", chunk=4, prompt_tokens=7))
    chunks = [c async for c in client(server).astream([HumanMessage("hi")])]
    assert len([c for c in chunks if c.content]) == 8
    total = chunks[0]
    for c in chunks[1:]:
        total += c
    assert isinstance(total, AIMessageChunk) and total.content == "Streaming works token by token."
    assert total.usage_metadata is not None and total.usage_metadata["input_tokens"] == 7
    assert server.log.requests[0].body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("stream", [False, True])
async def test_tool_calls(server: WireServer, script: Script, stream: bool, client: Client) -> None:
    script.add(Reply(tool_calls=[ToolCall("get_order_details", {"order_id": "#W1"}, id="call_a")]))
    model = client(server, streaming=stream).bind_tools([LOOKUP])
    reply = await model.ainvoke([HumanMessage("order #W1")])
    assert isinstance(reply, AIMessage)
    assert [(c["name"], c["args"], c["id"]) for c in reply.tool_calls] == [
        ("get_order_details", {"order_id": "#W1"}, "call_a")
    ]
    assert server.log.requests[0].tool_names == ["get_order_details"]


@pytest.mark.parametrize("stream", [False, True])
async def test_malformed_tool_arguments_are_invalid_tool_calls(
    server: WireServer, script: Script, stream: bool, client: Client
) -> None:
    script.add(Reply(tool_calls=[ToolCall("get_order_details", "order_id=#W1 (no JSON)", id="call_b")]))
    reply = await client(server, streaming=stream).bind_tools([LOOKUP]).ainvoke([HumanMessage("x")])
    assert isinstance(reply, AIMessage) and not reply.tool_calls
    assert [(c["name"], c["id"]) for c in reply.invalid_tool_calls] == [("get_order_details", "call_b")]


async def test_unanswered_tool_call_is_rejected_like_openai(
    server: WireServer, script: Script, client: Client
) -> None:
    call = {"name": "get_order_details", "args": {"order_id": "#W1"}, "id": "call_c"}
    history = [HumanMessage("x"), AIMessage(content="", tool_calls=[call]), HumanMessage("hello?")]
    with pytest.raises(openai.BadRequestError, match="call_c"):
        await client(server).ainvoke(history)
    assert server.log.rejected and not script.unexpected
    server.log.rejected.clear()
    script.add(Reply(text="ok"))
    answered = [*history[:2], ToolMessage('{"ok": true}', tool_call_id="call_c"), history[2]]
    assert (await client(server).ainvoke(answered)).content == "ok"


async def test_429_carries_retry_after_and_sdk_retries_honour_it(
    server: WireServer, script: Script, client: Client
) -> None:
    script.add(Fail(429, "slow down", retry_after=0.2))
    with pytest.raises(openai.RateLimitError) as caught:
        await client(server).ainvoke([HumanMessage("x")])
    assert caught.value.response.headers["retry-after"] == "0.2"
    script.add(Fail(429, "slow down", retry_after=0), Reply(text="after the wait"))
    assert (await client(server, max_retries=1).ainvoke([HumanMessage("x")])).content == "after the wait"


@pytest.mark.parametrize(
    ("status", "error"), [(500, openai.InternalServerError), (503, openai.InternalServerError)]
)
async def test_server_errors(
    server: WireServer, script: Script, status: int, error: type[Exception], client: Client
) -> None:
    script.add(Fail(status))
    with pytest.raises(error):
        await client(server).ainvoke([HumanMessage("x")])


async def test_stall_is_a_timeout(server: WireServer, script: Script, client: Client) -> None:
    script.add(Stall(1))
    with pytest.raises(openai.APITimeoutError):
        await client(server, timeout=0.3).ainvoke([HumanMessage("x")])


async def test_stalled_stream_hits_the_read_timeout(
    server: WireServer, script: Script, client: Client
) -> None:
    script.add(Reply(text="a long answer that stops", stall_after=2, stall_seconds=1))
    with pytest.raises(openai.APITimeoutError):
        await client(server, timeout=0.3, streaming=True).ainvoke([HumanMessage("x")])


@pytest.mark.parametrize("stream", [False, True])
async def test_malformed_json_raises(
    server: WireServer, script: Script, stream: bool, client: Client
) -> None:
    script.add(Malformed())
    with pytest.raises(ValueError):  # json.JSONDecodeError
        await client(server, streaming=stream).ainvoke([HumanMessage("x")])


async def test_cut_connection_and_restart(server: WireServer, script: Script, client: Client) -> None:
    script.add(Cut())
    with pytest.raises(openai.APIConnectionError):
        await client(server).ainvoke([HumanMessage("x")])
    server.stop()
    with pytest.raises(openai.APIConnectionError):
        await client(server).ainvoke([HumanMessage("x")])
    server.start()
    script.add(Reply(text="back"))
    assert (await client(server).ainvoke([HumanMessage("x")])).content == "back"


async def test_context_window_and_api_key(client: Client) -> None:
    with WireServer(openai_app(Script(), api_key="sk-right", context_window=50)) as server:
        with pytest.raises(openai.AuthenticationError):
            await client(server, api_key="sk-wrong").ainvoke([HumanMessage("x")])
        with pytest.raises(openai.BadRequestError, match="maximum context length") as caught:
            await client(server, api_key="sk-right").ainvoke([HumanMessage("x" * 400)])
        assert caught.value.code == "context_length_exceeded"
