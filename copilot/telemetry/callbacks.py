"""Every chat-model call of a turn, seen through a LangChain callback handler: its usage (reported or
estimated) and cost go to the turn's `TurnUsage`; with telemetry on, a GenAI client span and the model
metrics. The handler is attached to every run configured while a turn runs (`register_configure_hook`,
LangChain's public hook for context-scoped handlers), so it sees the model whatever wraps it (tool binding,
fallbacks) without the model factory or the graph knowing. Before each call it checks the tenant's token
budget and refuses the call (budget_exceeded) when it is used up."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.tracers.context import register_configure_hook
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from copilot.prompts.stamp import saw_model
from copilot.telemetry import metering, metrics
from copilot.telemetry.tracing import active_tracer
from copilot.telemetry.usage import CallUsage, TurnUsage, cost, estimate_prompt, estimate_tokens

log = logging.getLogger(__name__)
_HANDLER: ContextVar[ModelCalls | None] = ContextVar("copilot_model_calls", default=None)
_installed = False


@dataclass(slots=True)
class _Call:
    provider: str
    model: str
    prompt: tuple[Sequence[BaseMessage], Sequence[Any] | None]
    """Messages and bound tools: estimated only if the reply reports no usage."""
    started: float
    span: Span | None


def error_kind(error: BaseException) -> str:
    """rate_limit (429), server (5xx), timeout, budget or other — from the provider SDK's exception."""
    status = getattr(error, "status_code", None) or getattr(
        getattr(error, "response", None), "status_code", None
    )
    if getattr(error, "code", None) == "budget_exceeded":
        return "budget"
    if status == 429:
        return "rate_limit"
    if isinstance(status, int) and status >= 500:
        return "server"
    if isinstance(error, TimeoutError) or "timeout" in type(error).__name__.lower():
        return "timeout"
    return "other"


def _finish_reason(generation: ChatGeneration) -> str | None:
    info = generation.generation_info or {}
    meta = generation.message.response_metadata
    reason = info.get("finish_reason") or meta.get("finish_reason") or meta.get("stop_reason")
    return str(reason) if reason else None


class ModelCalls(AsyncCallbackHandler):
    """The callback handler of one turn."""

    raise_error = True  # a budget refusal must stop the call; everything else is caught and logged
    run_inline = False  # gathered with the other handlers: a refusal leaves none of them un-awaited

    def __init__(self, usage: TurnUsage) -> None:
        self.usage = usage
        self._calls: dict[UUID, _Call] = {}

    @property
    def ignore_chain(self) -> bool:  # only model calls matter: skip the graph's node runs
        return True

    @property
    def ignore_retriever(self) -> bool:
        return True

    @property
    def ignore_agent(self) -> bool:
        return True

    async def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[BaseMessage]], *, run_id: UUID,
        parent_run_id: UUID | None = None, tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None, **kwargs: Any,
    ) -> None:  # fmt: skip
        meta = metadata or {}
        provider, model = (
            metrics.name_label(meta.get("ls_provider")),
            metrics.name_label(meta.get("ls_model_name")),
        )
        try:
            self.usage.check()
        except Exception:
            if metering():
                metrics.child(metrics.MODEL_ERRORS, provider, model, "budget").inc()
            raise
        tools: Sequence[Any] | None = (kwargs.get("invocation_params") or {}).get("tools")
        prompt = (messages[0] if messages else [], tools)
        self._calls[run_id] = _Call(
            provider, model, prompt, time.perf_counter(), _start_span(provider, model)
        )

    async def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        call = self._calls.pop(run_id, None)
        if call is None:
            return
        try:
            self._ended(call, response)
        except Exception:  # usage capture must never break the answer
            log.exception("recording the usage of a model call failed")

    async def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        call = self._calls.pop(run_id, None)
        if call is None:
            return
        kind = error_kind(error)
        if metering():
            metrics.child(metrics.MODEL_CALLS, call.provider, call.model).inc()
            metrics.child(metrics.MODEL_ERRORS, call.provider, call.model, kind).inc()
        if call.span is not None:
            call.span.record_exception(error)
            call.span.set_attribute("error.type", kind)
            call.span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            call.span.end()

    def _ended(self, call: _Call, response: LLMResult) -> None:
        generation = response.generations[0][0] if response.generations and response.generations[0] else None
        message = generation.message if isinstance(generation, ChatGeneration) else None
        usage = message.usage_metadata if message is not None and hasattr(message, "usage_metadata") else None
        if usage:
            input_tokens, output, estimated = int(usage["input_tokens"]), int(usage["output_tokens"]), False
        else:
            text = generation.text if generation is not None else ""
            calls = getattr(message, "tool_calls", None) or []
            input_tokens, output, estimated = (
                estimate_prompt(*call.prompt),
                estimate_tokens(text + str(calls)),
                True,
            )
        price = cost(self.usage.prices, call.provider, call.model, input_tokens, output)
        trace_id = format(call.span.get_span_context().trace_id, "032x") if call.span is not None else None
        self.usage.add(CallUsage(call.provider, call.model, input_tokens, output, estimated, price, trace_id))
        saw_model(call.provider, call.model)  # the turn's audit rows name the model that made the latest call
        if metering():
            _count(call, input_tokens, output, estimated, price)
        if call.span is not None:
            reason = _finish_reason(generation) if isinstance(generation, ChatGeneration) else None
            call.span.set_attributes({
                "gen_ai.usage.input_tokens": input_tokens, "gen_ai.usage.output_tokens": output,
                "copilot.usage.estimated": estimated, "copilot.cost_usd": price,
                **({"gen_ai.response.finish_reasons": [reason]} if reason else {}),
            })  # fmt: skip
            call.span.end()


def _start_span(provider: str, model: str) -> Span | None:
    tracer = active_tracer()
    if tracer is None:
        return None
    attributes = {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": provider, "gen_ai.request.model": model,
    }  # fmt: skip
    return tracer.start_span(f"chat {model}", kind=SpanKind.CLIENT, attributes=attributes)


def _count(call: _Call, input_tokens: int, output: int, estimated: bool, price: float) -> None:
    flag, by = "true" if estimated else "false", (call.provider, call.model)
    latency = time.perf_counter() - call.started
    metrics.child(metrics.MODEL_CALLS, *by).inc()
    metrics.child(metrics.MODEL_TOKENS, *by, "input", flag).inc(input_tokens)
    metrics.child(metrics.MODEL_TOKENS, *by, "output", flag).inc(output)
    metrics.child(metrics.MODEL_COST, *by).inc(price)
    metrics.child(metrics.MODEL_LATENCY, *by).observe(latency)


@contextmanager
def watching(usage: TurnUsage) -> Iterator[ModelCalls]:
    """Attach a handler for `usage` to every LangChain run started in this context."""
    global _installed
    if not _installed:
        register_configure_hook(_HANDLER, inheritable=True)
        _installed = True
    handler = ModelCalls(usage)
    token = _HANDLER.set(handler)
    try:
        yield handler
    finally:
        _HANDLER.reset(token)
