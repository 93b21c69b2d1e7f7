"""Split a finished AIMessage into streaming chunks: text as word tokens, tool calls in one chunk."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, ToolCallChunk
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.utils.function_calling import convert_to_openai_tool

_TOKEN = re.compile(r"\s*\S+")


def word_tokens(text: str) -> list[str]:
    """The text as streamed word tokens (each with its leading whitespace)."""
    return _TOKEN.findall(text)


def stream_chunks(reply: AIMessage) -> Iterator[ChatGenerationChunk]:
    """The reply's usage (when it has one) rides on a last, empty chunk, as providers stream it."""
    yield from _content_chunks(reply)
    if reply.usage_metadata:
        yield ChatGenerationChunk(
            message=AIMessageChunk(content="", id=reply.id, usage_metadata=reply.usage_metadata)
        )


def _content_chunks(reply: AIMessage) -> Iterator[ChatGenerationChunk]:
    text = reply.text
    for token in word_tokens(text):
        yield ChatGenerationChunk(message=AIMessageChunk(content=token, id=reply.id))
    if reply.tool_calls:
        calls = [
            ToolCallChunk(
                name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=i, type="tool_call_chunk"
            )
            for i, c in enumerate(reply.tool_calls)
        ]
        yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=calls, id=reply.id))
    elif not text:
        yield ChatGenerationChunk(message=AIMessageChunk(content="", id=reply.id))


def tool_schemas(tools: Sequence[Any] | None) -> dict[str, dict[str, Any]]:
    """Bound tools (any bind_tools input, already formatted or not) → name → JSON Schema of arguments."""
    schemas: dict[str, dict[str, Any]] = {}
    for tool in tools or ():
        function = convert_to_openai_tool(tool)["function"]
        schemas[function["name"]] = dict(function.get("parameters") or {})
    return schemas
