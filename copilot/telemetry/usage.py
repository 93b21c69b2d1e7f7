"""Model usage and cost: what each chat-model call of a turn used (from the provider's `usage_metadata`, or
estimated and marked so), priced by the configured table, stored one row per call in `model_usage`, and the
per-tenant token budgets checked against it.

Estimates (models that report nothing, such as the offline model): ~4 characters per token over the prompt
(messages, tool calls and bound tool schemas) and the reply — the usual rule of thumb for English text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage
from sqlalchemy import Engine, func, insert, select

from copilot.errors import CopilotError, ErrorCode
from copilot.settings import ModelPrice, Settings
from copilot.store.schema import model_usage

CHARS_PER_TOKEN = 4
BUDGET_MESSAGE = (
    "This service has used its model budget for the {period}, so the assistant cannot answer now. "
    "A human agent will take over this conversation."
)


@dataclass(frozen=True, slots=True)
class CallUsage:
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    estimated: bool
    cost_usd: float
    trace_id: str | None = None

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def _message_text(message: BaseMessage) -> str:
    content = message.content if isinstance(message.content, str) else json.dumps(message.content)
    calls = getattr(message, "tool_calls", None)
    return content + (json.dumps(calls, default=str) if calls else "")


_TOOLS: dict[tuple[str, ...], int] = {}
"""Characters of each bound tool set's schemas (a few distinct sets per process; dumping 16 schemas on every
call cost ~0.5 ms)."""


def _tool_chars(tools: Sequence[Any]) -> int:
    key = tuple(str(t.get("function", {}).get("name")) if isinstance(t, dict) else repr(t) for t in tools)
    chars = _TOOLS.get(key)
    if chars is None:
        chars = _TOOLS[key] = len(json.dumps(list(tools), default=str))
    return chars


def estimate_prompt(messages: Sequence[BaseMessage], tools: Sequence[Any] | None) -> int:
    chars = sum(len(_message_text(m)) for m in messages) + (_tool_chars(tools) if tools else 0)
    return math.ceil(chars / CHARS_PER_TOKEN)


def reported_usage(message: BaseMessage) -> tuple[int, int] | None:
    """(input, output) tokens the provider reported on the reply, if it did."""
    usage = message.usage_metadata if isinstance(message, AIMessage) else None
    if not usage:
        return None
    return int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))


def cost(prices: dict[str, ModelPrice], provider: str, model: str, input_tokens: int, output: int) -> float:
    """USD from the price table (per million tokens); a model missing from it costs 0."""
    price = prices.get(f"{provider}:{model}") or prices.get(model)
    if price is None:
        return 0.0
    return (input_tokens * price.input + output * price.output) / 1_000_000


@dataclass(frozen=True, slots=True)
class Budget:
    limit: int
    period: Literal["day", "month"]

    def start(self, now: datetime) -> datetime:
        day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return day if self.period == "day" else day.replace(day=1)

    def exceeded(self) -> CopilotError:
        return CopilotError(ErrorCode.BUDGET_EXCEEDED, BUDGET_MESSAGE.format(period=self.period))


def budget_of(settings: Settings, tenant: str) -> Budget | None:
    limit = settings.token_budgets.get(tenant)
    return Budget(limit, settings.token_budget_period) if limit is not None else None


@dataclass
class TurnUsage:
    """The model calls of one running turn (filled by the callback handler)."""

    tenant: str
    conversation_id: str
    turn_id: str
    prices: dict[str, ModelPrice]
    remaining: int | None = None
    """Tokens left in the tenant's budget when the turn started, minus this turn's; None: no budget."""
    budget: Budget | None = None
    calls: list[CallUsage] = field(default_factory=list)
    over_budget: bool = False

    def add(self, call: CallUsage) -> None:
        self.calls.append(call)
        if self.remaining is not None:
            self.remaining -= call.tokens

    def check(self) -> None:
        """Before a model call: refuse it when the budget is used up (raises budget_exceeded)."""
        if self.budget is not None and self.remaining is not None and self.remaining <= 0:
            self.over_budget = True
            raise self.budget.exceeded()


class UsageLedger:
    """The `model_usage` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, usage: TurnUsage) -> None:
        if not usage.calls:
            return
        at = datetime.now(UTC)
        rows = [
            {
                "at": at, "tenant": usage.tenant, "conversation_id": usage.conversation_id,
                "turn_id": usage.turn_id, "provider": c.provider, "model": c.model,
                "input_tokens": c.input_tokens, "output_tokens": c.output_tokens, "estimated": c.estimated,
                "cost_usd": c.cost_usd, "trace_id": c.trace_id,
            }
            for c in usage.calls
        ]  # fmt: skip
        with self.engine.begin() as conn:
            conn.execute(insert(model_usage), rows)

    def used(self, tenant: str, since: datetime) -> int:
        """Tokens the tenant's model calls used since `since`."""
        tokens = func.coalesce(func.sum(model_usage.c.input_tokens + model_usage.c.output_tokens), 0)
        query = select(tokens).where(model_usage.c.tenant == tenant, model_usage.c.at >= since)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())
