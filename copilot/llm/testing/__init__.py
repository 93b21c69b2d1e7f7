"""Scripted model servers that speak real wire protocols (OpenAI chat completions, Anthropic Messages), for
tests, CI and the evaluation harness: `WireServer(openai_app(script))` serves on 127.0.0.1 and is driven by
the real `langchain-openai` / `langchain-anthropic` clients. Steps are scripted (`Script`) or computed by any
`Responder` (e.g. `by_model` routes a user-simulator model and the copilot model to their own scripts)."""

from copilot.llm.testing.anthropic_server import anthropic_app
from copilot.llm.testing.openai_server import openai_app
from copilot.llm.testing.script import (
    Cut,
    Fail,
    Malformed,
    Reply,
    Responder,
    Script,
    Stall,
    Step,
    ToolCall,
    WireRequest,
    by_model,
)
from copilot.llm.testing.server import WireServer

__all__ = [
    "Cut",
    "Fail",
    "Malformed",
    "Reply",
    "Responder",
    "Script",
    "Stall",
    "Step",
    "ToolCall",
    "WireRequest",
    "WireServer",
    "anthropic_app",
    "by_model",
    "openai_app",
]
