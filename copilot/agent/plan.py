"""plan: the model with the principal's tools bound, fed [system prompt + <context>, *conversation], the
history trimmed to the context window. Calls go through the model runtime (timeout, retries honouring
Retry-After, fallback chain); a context overflow is retried once with half the history; the turn's budget
(model calls, tool calls, tokens) is checked before each call. Failures are typed `ModelError`s, reported to
the audit log and raised (the runner turns them into an `error` event that offers a human).
Tokens stream to the runner through LangGraph's "messages" stream mode."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, SystemMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.runnables import RunnableConfig

from copilot.agent.deps import AgentDeps
from copilot.agent.hygiene import fit
from copilot.agent.prompts import TRIMMED, system_prompt
from copilot.agent.state import NOTHING_SPENT, Spent, SupportState, conversation_of, principal_of
from copilot.errors import ErrorCode
from copilot.llm.calls import Bound, bind_chain, call_chain
from copilot.llm.errors import ModelError
from copilot.principal import Principal


def over_budget(deps: AgentDeps, spent: Spent) -> ModelError | None:
    budget = deps.budget
    for name, used, limit in (
        ("model calls", spent["model_calls"], budget.model_calls - 1),
        ("tool calls", spent["tool_calls"], budget.tool_calls),
        ("tokens", spent["tokens"], budget.tokens - 1),
    ):
        if used > limit:
            detail = f"the turn used {used} {name} (limit {limit})"
            return ModelError(ErrorCode.TURN_BUDGET_EXCEEDED, detail, retryable=False)
    return None


def _tokens(reply: BaseMessage, prompt: list[BaseMessage]) -> int:
    usage = reply.usage_metadata if isinstance(reply, AIMessage) else None
    if usage:
        return int(usage.get("total_tokens") or usage["input_tokens"] + usage["output_tokens"])
    return count_tokens_approximately([*prompt, reply])


class Planner:
    def __init__(self, deps: AgentDeps) -> None:
        self.deps = deps
        self._bound: dict[tuple[str, ...], tuple[list[Bound], int]] = {}

    def chain_for(self, principal: Principal) -> tuple[list[Bound], int]:
        """The model chain with the principal's tools bound and the schemas' approximate token cost, built
        once per distinct tool set (converting and binding ~16 schemas on every plan call cost ~0.1 ms;
        specs are immutable for the graph's life)."""
        specs = self.deps.tools_for(principal)
        key = tuple(spec.name for spec in specs)
        entry = self._bound.get(key)
        if entry is None:
            schemas = [spec.openai_schema() for spec in specs]
            chain = bind_chain([self.deps.model, *self.deps.fallbacks], schemas, self.deps.calls)
            entry = self._bound[key] = (chain, len(json.dumps(schemas)) // 4 if schemas else 0)
        return entry

    def prompt(self, state: SupportState, principal: Principal, trimmed: bool) -> SystemMessage:
        note = state.get("note")
        if trimmed:
            note = f"{note or ''} {TRIMMED}".strip()
        passages = state.get("passages", [])
        return SystemMessage(content=system_prompt(principal, passages, note, fixed=self.deps.instructions))

    def history(self, messages: list[AnyMessage], fixed_tokens: int) -> list[AnyMessage]:
        if self.deps.context_tokens is None:
            return messages
        return fit(messages, self.deps.context_tokens - self.deps.reserve_tokens - fixed_tokens)

    async def ask(
        self, state: SupportState, principal: Principal, config: RunnableConfig
    ) -> tuple[BaseMessage, list[BaseMessage]]:
        """The model's reply and the prompt it got; after a context overflow, once more with half the history."""
        chain, tool_tokens = self.chain_for(principal)
        full = state["messages"]
        prompt = self.prompt(state, principal, trimmed=False)
        messages = self.history(full, tool_tokens + count_tokens_approximately([prompt]))
        for overflowed in (False, True):
            sent: list[BaseMessage] = [self.prompt(state, principal, len(messages) < len(full)), *messages]
            try:
                return await call_chain(chain, sent, config, self.deps.calls), sent
            except ModelError as error:
                shorter = fit(messages, count_tokens_approximately(messages) // 2)
                if (
                    error.code is not ErrorCode.CONTEXT_OVERFLOW
                    or overflowed
                    or len(shorter) == len(messages)
                ):
                    raise
                messages = shorter
        raise AssertionError("unreachable")

    async def plan(self, state: SupportState, config: RunnableConfig) -> dict[str, Any]:
        principal = principal_of(config)
        spent = state.get("spent") or NOTHING_SPENT
        try:
            if (error := over_budget(self.deps, spent)) is not None:
                raise error
            reply, sent = await self.ask(state, principal, config)
        except ModelError as error:
            if self.deps.report is not None:
                await asyncio.to_thread(self.deps.report, principal, conversation_of(config), error)
            raise
        if not isinstance(reply, AIMessage):
            reply = AIMessage(content=reply.content)
        used = Spent(
            model_calls=spent["model_calls"] + 1,
            tool_calls=spent["tool_calls"] + len(reply.tool_calls) + len(reply.invalid_tool_calls),
            tokens=spent["tokens"] + _tokens(reply, sent),
        )
        return {"messages": [reply], "spent": used}


def make_plan(deps: AgentDeps) -> Any:
    return Planner(deps).plan
