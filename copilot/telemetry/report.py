"""Cost per tenant, conversation and resolved conversation, from `model_usage` (one row per model call).

Resolved, until outcomes are recorded (feedback, the resolution window): a conversation with model usage and no
handoff to a human ("assumed", in Intercom's terms). Cost per resolved conversation divides *all* the tenant's
model cost (handed-off conversations included) by the resolved ones: what each resolution really cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Integer, cast, func, select

from copilot.store.schema import handoffs, model_usage


@dataclass(frozen=True, slots=True)
class TenantCost:
    tenant: str
    conversations: int
    turns: int
    calls: int
    input_tokens: int
    output_tokens: int
    estimated_calls: int
    cost_usd: float
    resolved: int

    @property
    def cost_per_conversation(self) -> float | None:
        return self.cost_usd / self.conversations if self.conversations else None

    @property
    def cost_per_resolved(self) -> float | None:
        return self.cost_usd / self.resolved if self.resolved else None


def tenant_costs(
    engine: Engine, *, since: datetime | None = None, tenant: str | None = None
) -> list[TenantCost]:
    u = model_usage.c
    where = [u.at >= since] if since is not None else []
    if tenant is not None:
        where.append(u.tenant == tenant)
    totals = select(
        u.tenant, func.count(func.distinct(u.conversation_id)), func.count(func.distinct(u.turn_id)),
        func.count(), func.sum(u.input_tokens), func.sum(u.output_tokens),
        func.sum(cast(u.estimated, Integer)), func.sum(u.cost_usd),
    ).where(*where).group_by(u.tenant).order_by(u.tenant)  # fmt: skip
    handed = select(handoffs.c.conversation_id)
    resolved = (
        select(u.tenant, func.count(func.distinct(u.conversation_id)))
        .where(*where, u.conversation_id.is_not(None), u.conversation_id.not_in(handed))
        .group_by(u.tenant)
    )
    with engine.connect() as conn:
        done = {row[0]: int(row[1]) for row in conn.execute(resolved)}
        return [_row(row, done.get(row[0], 0)) for row in conn.execute(totals)]


def _row(row: Any, resolved: int) -> TenantCost:
    conversations, turns, calls, input_tokens, output, estimated = (int(value or 0) for value in row[1:7])
    return TenantCost(
        row[0], conversations, turns, calls, input_tokens, output, estimated, float(row[7] or 0.0), resolved
    )


def conversation_cost(engine: Engine, conversation_id: str) -> float:
    query = select(func.coalesce(func.sum(model_usage.c.cost_usd), 0.0)).where(
        model_usage.c.conversation_id == conversation_id
    )
    with engine.connect() as conn:
        return float(conn.execute(query).scalar_one())
