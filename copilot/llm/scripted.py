"""ScriptedChatModel: replays AIMessages in order for tests and benchmarks; fails loudly on an unexpected
extra call (`UnexpectedModelCall`) and on unconsumed steps (`assert_consumed()`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import PrivateAttr

from copilot.llm.replying import ReplyingChatModel, ToolLike


class UnexpectedModelCall(AssertionError):
    """The model was called more often than the script has steps."""


class ScriptedChatModel(ReplyingChatModel):
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
        self, tools: Sequence[ToolLike], *, tool_choice: str | None = None, **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        formatted = [convert_to_openai_tool(t) for t in tools]
        self._bound.append([t["function"]["name"] for t in formatted])
        return self.bind(tools=formatted, **kwargs)

    def _reply(self, messages: list[BaseMessage], tools: Sequence[Any] | None) -> AIMessage:
        if self._position >= len(self.script):
            raise UnexpectedModelCall(
                f"unexpected model call #{self._position + 1}: the script has only {len(self.script)} step(s)"
            )
        self._prompts.append(list(messages))
        reply = self.script[self._position]
        self._position += 1
        return reply
