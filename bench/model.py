"""A stateless scripted chat model for benchmarks: a tool call after a user message, a final answer after a
tool result. Unlike the test fake it never runs out, so any number of turns can reuse it; `bind_tools`
converts and binds the schemas as real chat models do, so binding costs what it costs in production."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ToolCall,
    ToolCallChunk,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

ANSWER = "Your order {order_id} is pending; it will ship soon. Anything else I can help with today?"
_ids = itertools.count(1)


class BenchChatModel(BaseChatModel):
    """Calls `tool` with `args` once per turn, then answers (word-by-word when streamed)."""

    tool: str = "get_order_details"
    args: dict[str, Any]

    @property
    def _llm_type(self) -> str:
        return "bench-scripted"

    def bind_tools(
        self, tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool], **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def reply(self, messages: Sequence[BaseMessage]) -> AIMessage:
        if isinstance(messages[-1], ToolMessage):
            return AIMessage(content=ANSWER.format(**self.args))
        call = ToolCall(name=self.tool, args=dict(self.args), id=f"call_{next(_ids)}")
        return AIMessage(content="", tool_calls=[call])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.reply(messages))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        yield from chunks(self.reply(messages))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in chunks(self.reply(messages)):
            yield chunk


def chunks(reply: AIMessage) -> list[ChatGenerationChunk]:
    """Text word by word, tool calls as one chunk."""
    words = reply.text.split(" ") if reply.text else []
    out = [
        ChatGenerationChunk(message=AIMessageChunk(content=w if i == 0 else " " + w))
        for i, w in enumerate(words)
    ]
    if reply.tool_calls:
        calls = [
            ToolCallChunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=i)
            for i, c in enumerate(reply.tool_calls)
        ]
        out.append(ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=calls)))
    return out or [ChatGenerationChunk(message=AIMessageChunk(content=""))]
