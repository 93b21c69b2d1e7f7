"""plan: the model with the principal's tools bound, fed [system prompt + <context>, *conversation], the
history fitted to the context window (what falls out is summarised when COPILOT_HISTORY_SUMMARY allows,
copilot/agent/summary.py). Calls go through the model runtime (timeout, retries honouring
Retry-After, fallback chain); a context overflow is retried once with half the history; the turn's budget
(model calls, tool calls, tokens) is checked before each call. Failures are typed `ModelError`s, reported to
the audit log and raised (the runner turns them into an `error` event that offers a human).
Tokens stream to the runner through LangGraph's "messages" stream mode."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, SystemMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.runnables import RunnableConfig

from copilot.agent.deps import AgentDeps
from copilot.agent.hygiene import fit
from copilot.agent.state import NOTHING_SPENT, Spent, SupportState, conversation_of, principal_of
from copilot.agent.summary import HistorySummary, summarise, summary_tokens, uncovered
from copilot.errors import ErrorCode
from copilot.llm.calls import Bound, bind_chain, call_chain
from copilot.llm.errors import ModelError
from copilot.principal import Principal
from copilot.prompts.defaults import summary_note
from copilot.prompts.templates import PromptSet, builtin, prompts_of


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


class History(NamedTuple):
    messages: list[AnyMessage]
    summary: HistorySummary | None
    cost: int = 0
    """Tokens of the summary's own model call (0: none was made)."""


class Planner:
    def __init__(self, deps: AgentDeps) -> None:
        self.deps = deps
        self.builtin = builtin(deps.instructions)
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

    def prompt(
        self, state: SupportState, principal: Principal, trimmed: bool, prompts: PromptSet,
        summary: HistorySummary | None = None,
    ) -> SystemMessage:  # fmt: skip
        note = state.get("note")
        if summary is not None:
            note = f"{note or ''}\n{summary_note(summary['text'], summary['results'])}".strip()
        elif trimmed:
            note = f"{note or ''} {prompts.text('trimmed')}".strip()
        return SystemMessage(content=prompts.system(principal, state.get("passages", []), note))

    async def history(
        self, state: SupportState, chain: Sequence[Bound], fixed_tokens: int, config: RunnableConfig
    ) -> History:
        """The messages to send and the summary of those left out (a new one when more fell out)."""
        summary = state.get("summary")
        messages = uncovered(state["messages"], summary)
        if self.deps.context_tokens is None:
            return History(messages, summary)
        room = self.deps.context_tokens - self.deps.reserve_tokens - fixed_tokens
        if self.deps.summary == "off":
            return History(fit(messages, room), None)
        if count_tokens_approximately(messages) + summary_tokens(summary) <= room:
            return History(messages, summary)
        cap = min(1000, room // 4)  # the summary's share of the window
        kept = fit(messages, room - cap)
        dropped = messages[: len(messages) - len(kept)]
        if not dropped:
            return History(kept, summary)
        summary = await summarise(
            self.deps.summary, summary, dropped, upto=str(kept[0].id), limit_tokens=cap, chain=chain,
            policy=self.deps.calls, config=config,
        )  # fmt: skip
        by_model = self.deps.summary == "model"  # its request ≈ what fell out, its answer ≈ the summary
        cost = count_tokens_approximately(dropped) + summary_tokens(summary) if by_model else 0
        return History(kept, summary, cost)

    async def ask(
        self, state: SupportState, principal: Principal, config: RunnableConfig
    ) -> tuple[BaseMessage, list[BaseMessage], History]:
        """The model's reply, the prompt it got and the history summary it carried; after a context overflow,
        once more with half the history."""
        chain, tool_tokens = self.chain_for(principal)
        prompts = prompts_of(config, self.builtin)  # the tenant's published version for this turn
        full = state["messages"]
        prompt = self.prompt(state, principal, False, prompts)
        plain = [self.deps.model, *self.deps.fallbacks]  # the summary is asked for without tools
        history = await self.history(state, plain, tool_tokens + count_tokens_approximately([prompt]), config)
        messages, summary = history.messages, history.summary
        for overflowed in (False, True):
            system = self.prompt(state, principal, len(messages) < len(full), prompts, summary)
            sent: list[BaseMessage] = [system, *messages]
            try:
                return await call_chain(chain, sent, config, self.deps.calls), sent, history
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
            reply, sent, history = await self.ask(state, principal, config)
        except ModelError as error:
            if self.deps.report is not None:
                await asyncio.to_thread(self.deps.report, principal, conversation_of(config), error)
            raise
        if not isinstance(reply, AIMessage):
            reply = AIMessage(content=reply.content)
        used = Spent(
            model_calls=spent["model_calls"] + 1 + (history.cost > 0),  # the summary's own call, if any
            tool_calls=spent["tool_calls"] + len(reply.tool_calls) + len(reply.invalid_tool_calls),
            tokens=spent["tokens"] + _tokens(reply, sent) + history.cost,
        )
        update: dict[str, Any] = {"messages": [reply], "spent": used}
        if history.summary is not state.get("summary"):
            update["summary"] = history.summary
        return update


def make_plan(deps: AgentDeps) -> Any:
    return Planner(deps).plan
