"""Model usage and cost: what each chat-model call of a turn (or of a staff assist request) used (from the
provider's `usage_metadata`, or estimated and marked so), priced by the configured table, stored one row per
call in `model_usage` as the call ends (`UsageWriter`), and the per-tenant token budgets checked against it.

Estimates (models that report nothing, such as the offline model): ~4 characters per token over the prompt
(messages, tool calls and bound tool schemas) and the reply — the usual rule of thumb for English text.
"""

from __future__ import annotations

import asyncio
import json
import logging
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

log = logging.getLogger(__name__)
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
    """The model calls of one running turn, or of one staff assist request outside turns (`turn_id` None),
    filled by the callback handler; `written` writes each call's row as it happens."""

    tenant: str
    conversation_id: str | None
    turn_id: str | None
    prices: dict[str, ModelPrice]
    remaining: int | None = None
    """Tokens left in the tenant's budget when the turn started, minus this turn's; None: no budget."""
    budget: Budget | None = None
    calls: list[CallUsage] = field(default_factory=list)
    over_budget: bool = False
    written: UsageWriter | None = None

    def add(self, call: CallUsage) -> None:
        self.calls.append(call)
        if self.remaining is not None:
            self.remaining -= call.tokens
        if self.written is not None:
            self.written.write(self, call)

    def check(self) -> None:
        """Before a model call: refuse it when the budget is used up (raises budget_exceeded)."""
        if self.budget is not None and self.remaining is not None and self.remaining <= 0:
            self.over_budget = True
            raise self.budget.exceeded()


class UsageWriter:
    """Each model call's row is written when the call ends — on a worker thread, off the turn's path — so a
    crash later in the turn (or a cancelled turn) keeps the calls already made; `flush()` waits for the
    writes and retries, in one transaction, those that failed (a failure there is logged: the answer stands)."""

    def __init__(self, ledger: UsageLedger) -> None:
        self._ledger = ledger
        self._pending: set[asyncio.Task[None]] = set()
        self._failed: list[CallUsage] = []

    def write(self, usage: TurnUsage, call: CallUsage) -> None:
        task = asyncio.get_running_loop().create_task(self._write(usage, call))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _write(self, usage: TurnUsage, call: CallUsage) -> None:
        try:
            await asyncio.to_thread(self._ledger.record, usage, [call])
        except Exception:
            self._failed.append(call)

    async def flush(self, usage: TurnUsage) -> None:
        while self._pending:
            await asyncio.gather(*self._pending)
        failed, self._failed = self._failed, []
        try:
            await asyncio.to_thread(self._ledger.record, usage, failed)
        except Exception:
            log.exception("could not store %d model usage rows of %s", len(failed), usage.turn_id or "assist")


_INSERT = insert(model_usage)


class UsageLedger:
    """The `model_usage` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, usage: TurnUsage, calls: Sequence[CallUsage] | None = None) -> None:
        """Rows for `calls` (default: all of the usage's calls), in one transaction."""
        chosen = usage.calls if calls is None else calls
        if not chosen:
            return
        at = datetime.now(UTC)
        rows = [
            {
                "at": at, "tenant": usage.tenant, "conversation_id": usage.conversation_id,
                "turn_id": usage.turn_id, "provider": c.provider, "model": c.model,
                "input_tokens": c.input_tokens, "output_tokens": c.output_tokens, "estimated": c.estimated,
                "cost_usd": c.cost_usd, "trace_id": c.trace_id,
            }
            for c in chosen
        ]  # fmt: skip
        with self.engine.begin() as conn:
            conn.execute(_INSERT, rows)

    def used(self, tenant: str, since: datetime) -> int:
        """Tokens the tenant's model calls used since `since`."""
        tokens = func.coalesce(func.sum(model_usage.c.input_tokens + model_usage.c.output_tokens), 0)
        query = select(tokens).where(model_usage.c.tenant == tenant, model_usage.c.at >= since)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())
