"""ScriptedChatModel: replays AIMessages in order for tests and benchmarks; fails loudly on an unexpected
extra call (`UnexpectedModelCall`) and on unconsumed steps (`assert_consumed()`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import PrivateAttr

from copilot.llm.chunks import stream_chunks


class UnexpectedModelCall(AssertionError):
    """The model was called more often than the script has steps."""


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
        """Every prompt the model received, in order."""
        return self._prompts

    @property
    def bound_tools(self) -> list[list[str]]:
        """Tool names of each bind_tools call."""
        return self._bound

    @property
    def remaining(self) -> int:
        return len(self.script) - self._position

    def assert_consumed(self) -> None:
        if self.remaining:
            left = [m.text or [c["name"] for c in m.tool_calls] for m in self.script[self._position :]]
            raise AssertionError(f"{self.remaining} scripted model step(s) never ran: {left}")

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        formatted = [convert_to_openai_tool(t) for t in tools]
        self._bound.append([t["function"]["name"] for t in formatted])
        return self.bind(tools=formatted, **kwargs)

    def _next(self, messages: list[BaseMessage]) -> AIMessage:
        if self._position >= len(self.script):
            raise UnexpectedModelCall(
                f"unexpected model call #{self._position + 1}: the script has only {len(self.script)} step(s)"
            )
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

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._generate(messages, stop, None, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        yield from stream_chunks(self._next(messages))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in stream_chunks(self._next(messages)):
            yield chunk
