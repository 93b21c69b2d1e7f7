"""The scripted Anthropic Messages server against the real langchain-anthropic client."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import pytest
from langchain_anthropic import ChatAnthropic
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from copilot.llm.testing import Fail, Reply, Script, Stall, ToolCall, WireServer, anthropic_app

LOOKUP = {
    "name": "get_order_details",
    "description": "Look up an order.",
    "input_schema": {
        "type": "object",
        "properties": {"order_id": {"type": "string"}},
        "required": ["order_id"],
    },
}


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def server(script: Script) -> Iterator[WireServer]:
    with WireServer(anthropic_app(script, api_key="ak-test")) as running:
        yield running
    running.log.assert_clean()
    script.assert_consumed()


def client(server: WireServer, **kwargs: object) -> ChatAnthropic:
    options: dict[str, object] = {"max_retries": 0, "default_request_timeout": 5, "api_key": "ak-test"}
    return ChatAnthropic(model_name="scripted", base_url=server.url, **(options | kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize("stream", [False, True])
async def test_text_tools_and_usage(server: WireServer, script: Script, stream: bool) -> None:
    script.add(
        Reply(text="Let me look.", tool_calls=[ToolCall("get_order_details", {"order_id": "#W1"}, id="toolu_a")],
              prompt_tokens=11),
        Reply(text="It ships tomorrow.", chunk=3),
    )  # fmt: skip
    model = client(server, streaming=stream).bind_tools([LOOKUP])
    first = await model.ainvoke([HumanMessage("where is #W1?")])
    assert isinstance(first, AIMessage) and first.text == "Let me look."
    assert [(c["name"], c["args"], c["id"]) for c in first.tool_calls] == [
        ("get_order_details", {"order_id": "#W1"}, "toolu_a")
    ]
    assert first.usage_metadata is not None and first.usage_metadata["input_tokens"] == 11
    result = ToolMessage('{"status": "pending"}', tool_call_id="toolu_a")
    second = await model.ainvoke([HumanMessage("where is #W1?"), first, result])
    assert second.text == "It ships tomorrow."
    assert server.log.requests[0].stream is stream and server.log.requests[0].tool_names == [
        "get_order_details"
    ]


async def test_unanswered_tool_use_is_rejected(script: Script) -> None:
    with WireServer(anthropic_app(script)) as server:
        call = {"name": "get_order_details", "args": {"order_id": "#W1"}, "id": "toolu_b"}
        history = [HumanMessage("x"), AIMessage(content="", tool_calls=[call]), HumanMessage("hello?")]
        with pytest.raises(anthropic.BadRequestError, match="toolu_b"):
            await client(server).ainvoke(history)
        assert server.log.rejected


@pytest.mark.parametrize(
    ("step", "error"),
    [
        (Fail(429, "slow down", retry_after=1), anthropic.RateLimitError),
        (Fail(529, "overloaded"), anthropic.InternalServerError),
        (Stall(1), anthropic.APITimeoutError),
    ],
)
async def test_failures(
    server: WireServer, script: Script, step: Fail | Stall, error: type[Exception]
) -> None:
    script.add(step)
    with pytest.raises(error):
        await client(server, default_request_timeout=0.3).ainvoke([HumanMessage("x")])
