"""Analytics API: conversation outcomes (copilot/telemetry/outcomes.py) for a tenant's admin; the platform admin
picks the tenant (or, leaving it out, gets every tenant)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from copilot.api.deps import PrincipalDep, RuntimeDep
from copilot.api.errors import error_responses
from copilot.errors import CopilotError, ErrorCode
from copilot.packs import load_pack
from copilot.principal import Principal
from copilot.runtime import Runtime
from copilot.telemetry.outcomes import IntentLabeller, OutcomeCounts, intent_labeller, outcomes
from copilot.tenants import TenantRegistry, is_platform_admin

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])


class Counts(BaseModel):
    """Engaged conversations and their outcomes; rates divide by `conversations` (null when it is 0)."""

    conversations: int
    confirmed: int
    assumed: int
    pending: int
    handed_off: int
    unresolved: int
    feedback_up: int
    feedback_down: int
    resolution_rate: float | None = Field(description="(confirmed + assumed) / conversations")
    confirmed_rate: float | None
    assumed_rate: float | None
    handoff_rate: float | None
    containment_rate: float | None = Field(description="Conversations no human took part in / conversations.")
    cost_usd: float = Field(description="Model cost of these conversations (USD, from the price table).")
    cost_per_resolution: float | None = Field(description="cost_usd / (confirmed + assumed)")


class Group(Counts):
    key: str = Field(description="The intent, tool or UTC day (YYYY-MM-DD).")


class OutcomesOut(BaseModel):
    tenant: str | None = Field(description="null: every tenant (platform admin only).")
    since: datetime | None
    until: datetime | None
    window_hours: float = Field(
        description="The assumed-resolution window (COPILOT_RESOLUTION_WINDOW_HOURS)."
    )
    total: Counts
    by_intent: list[Group]
    by_tool: list[Group]
    by_day: list[Group]


When = Annotated[
    datetime | None,
    Query(
        description="ISO 8601 (UTC when no offset); conversations started at or after `since`, before `until`."
    ),
]


@router.get(
    "/outcomes",
    summary="Resolution (confirmed, assumed), handoff and containment rates, by intent, tool and day",
    responses=error_responses(401, 403, 404, 422),
)
async def get_outcomes(
    *,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    request: Request,
    since: When = None,
    until: When = None,
    tenant: Annotated[str | None, Query(max_length=64, description="Platform admin: the tenant.")] = None,
) -> OutcomesOut:
    scope = await asyncio.to_thread(analytics_scope, runtime.engine, principal, tenant)
    since, until = _utc(since), _utc(until)
    if since is not None and until is not None and since >= until:
        raise CopilotError(
            ErrorCode.INVALID_ARGUMENTS, "`since` must be before `until`; swap them or widen the range."
        )
    window = timedelta(hours=runtime.settings.resolution_window_hours)
    labeller = _labeller(request, runtime)
    report = await asyncio.to_thread(
        outcomes, runtime.engine, since=since, until=until, tenant=scope, window=window, labeller=labeller
    )
    return OutcomesOut(
        tenant=scope, since=since, until=until, window_hours=window.total_seconds() / 3600,
        total=Counts(**report.total.as_dict()), by_intent=_groups(report.by_intent),
        by_tool=_groups(report.by_tool), by_day=_groups(report.by_day),
    )  # fmt: skip


def analytics_scope(engine: Engine, principal: Principal, asked: str | None) -> str | None:
    """The tenant the caller may read analytics of: a tenant admin's own; the platform admin's choice (None:
    every tenant). 403 for anyone else, 404 for a tenant that does not exist."""
    if is_platform_admin(principal):
        if asked is not None and TenantRegistry(engine).get(asked) is None:
            raise CopilotError(ErrorCode.NOT_FOUND, f"No tenant {asked!r}; list them with GET /v1/tenants.")
        return asked
    if principal.role != "admin":
        raise CopilotError(
            ErrorCode.FORBIDDEN,
            "Analytics are for the tenant's admins (a token from `copilot token --role admin`) and the "
            "platform admin.",
        )
    if asked is not None and asked != principal.tenant:
        raise CopilotError(
            ErrorCode.FORBIDDEN,
            f"You administer tenant {principal.tenant!r} only; leave `tenant` out or set it to "
            f"{principal.tenant!r}.",
        )
    return principal.tenant


def _labeller(request: Request, runtime: Runtime) -> IntentLabeller:
    """The pack's intent classifier, trained once per app."""
    cached: IntentLabeller | None = getattr(request.app.state, "intent_labeller", None)
    if cached is None:
        pack = load_pack(runtime.settings.pack_path)
        cached = request.app.state.intent_labeller = intent_labeller(pack.intents, pack.articles_dir)
    return cached


def _groups(groups: dict[str, OutcomeCounts]) -> list[Group]:
    return [Group(key=key, **counts.as_dict()) for key, counts in groups.items()]


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
