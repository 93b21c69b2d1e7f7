"""A scripted chat model for graph tests: replays AIMessages in order, streams their text word by word,
records every prompt, and fails loudly on an unexpected (extra) call."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolCallChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from pydantic import PrivateAttr


class ScriptedChatModel(BaseChatModel):
    script: list[AIMessage]
    _position: int = PrivateAttr(default=0)
    _prompts: list[list[BaseMessage]] = PrivateAttr(default_factory=list)
    _bound: list[list[str]] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def prompts(self) -> list[list[BaseMessage]]:
        return self._prompts

    @property
    def bound_tools(self) -> list[list[str]]:
        return self._bound

    @property
    def remaining(self) -> int:
        return len(self.script) - self._position

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]:
        self._bound.append([t["function"]["name"] for t in tools])
        return self

    def _next(self, messages: list[BaseMessage]) -> AIMessage:
        if self._position >= len(self.script):
            raise AssertionError(f"unexpected model call #{self._position + 1}: the script is exhausted")
        self._prompts.append(list(messages))
        reply = self.script[self._position]
        self._position += 1
        return reply

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._next(messages))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        yield from _chunks(self._next(messages))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in _chunks(self._next(messages)):
            yield chunk


def _chunks(reply: AIMessage) -> list[ChatGenerationChunk]:
    words = reply.text.split(" ")
    out = [
        ChatGenerationChunk(message=AIMessageChunk(content=(w if i == 0 else " " + w)))
        for i, w in enumerate(words)
        if reply.text
    ]
    if reply.tool_calls:
        calls = [
            ToolCallChunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=i)
            for i, c in enumerate(reply.tool_calls)
        ]
        out.append(ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=calls)))
    return out or [ChatGenerationChunk(message=AIMessageChunk(content=""))]
