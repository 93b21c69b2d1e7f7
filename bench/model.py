"""A stateless scripted chat model for benchmarks: a tool call after a user message, a final answer after a
tool result. Unlike the test fake it never runs out, so any number of turns can reuse it; `bind_tools`
converts and binds the schemas as real chat models do, so binding costs what it costs in production."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolCall, ToolMessage

from copilot.llm.replying import ReplyingChatModel

ANSWER = "Your order {order_id} is pending. Anything else I can help with today?"
"""Grounded in the order it read (copilot/agent/grounding.py): the bench times a passing answer."""
_ids = itertools.count(1)


class BenchChatModel(ReplyingChatModel):
    """Calls `tool` with `args` once per turn, then answers (word-by-word when streamed)."""

    tool: str = "get_order_details"
    args: dict[str, Any]

    @property
    def _llm_type(self) -> str:
        return "bench-scripted"

    def reply(self, messages: Sequence[BaseMessage]) -> AIMessage:
        if isinstance(messages[-1], ToolMessage):
            return AIMessage(content=ANSWER.format(**self.args))
        call = ToolCall(name=self.tool, args=dict(self.args), id=f"call_{next(_ids)}")
        return AIMessage(content="", tool_calls=[call])

    def _reply(self, messages: list[BaseMessage], tools: Sequence[Any] | None) -> AIMessage:
        return self.reply(messages)
