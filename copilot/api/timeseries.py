"""Analytics time series (copilot/telemetry/series.py) for the admin console's charts.

GET /v1/analytics/series?since=…&until=…&bucket=hour|day[&tenant=…] — a tenant's admin reads its own tenant;
the platform admin picks a tenant, or leaves it out for every tenant."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from copilot.api.analytics import analytics_scope
from copilot.api.deps import PrincipalDep, RuntimeDep
from copilot.api.errors import error_responses
from copilot.errors import CopilotError, ErrorCode
from copilot.telemetry.outcomes import outcomes
from copilot.telemetry.series import Bucket, Period, Series, series

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])
DEFAULT_SPAN: dict[Bucket, timedelta] = {"hour": timedelta(hours=24), "day": timedelta(days=30)}


class Summary(BaseModel):
    """What was counted in one bucket (or the whole period)."""

    turns: int = Field(description="Turns that ended in the bucket.")
    turns_by_end: dict[str, int] = Field(
        description="completed, awaiting_confirmation, handoff, failed, cancelled."
    )
    latency_p95_seconds: float | None = Field(
        description="p95 of message accepted → turn ended (queueing included); null without turns."
    )
    handoffs: int
    handoffs_by_reason: dict[str, int]
    denials: int = Field(description="Gateway denials (a write waiting for approval is not one).")
    denials_by_tool: dict[str, int]
    cost_usd: float = Field(description="Model cost spent in the bucket (COPILOT_PRICES).")
    input_tokens: int
    output_tokens: int
    model_calls: int
    conversations: int = Field(description="Engaged conversations started in the bucket.")
    confirmed: int
    assumed: int
    pending: int
    handed_off: int
    unresolved: int
    resolved: int = Field(description="confirmed + assumed")
    cost_per_resolved_usd: float | None = Field(
        description="cost_usd / resolved (every conversation's cost, handed-off ones included)."
    )
    feedback_up: int
    feedback_down: int


class Point(Summary):
    start: datetime = Field(description="The bucket's first instant (UTC); it lasts one `bucket`.")


class SeriesOut(BaseModel):
    tenant: str | None = Field(description="null: every tenant (platform admin only).")
    since: datetime = Field(description="The first bucket's start (`since` rounded down to a bucket).")
    until: datetime = Field(description="The end of the last bucket (`until` rounded up).")
    bucket: Bucket
    resolution_window_hours: float = Field(
        description="Assumed resolution: no handoff and no new conversation within this many hours "
        "(COPILOT_RESOLUTION_WINDOW_HOURS); until it has passed a conversation is `pending`."
    )
    buckets: list[Point]
    total: Summary


When = Annotated[datetime | None, Query(description="ISO 8601; UTC when it has no offset.")]


@router.get(
    "/series",
    summary="Turns, latency, handoffs, denials, cost, resolution and feedback per UTC hour or day",
    responses=error_responses(401, 403, 404, 422),
)
async def get_series(
    *,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    since: When = None,
    until: When = None,
    bucket: Annotated[Bucket, Query(description="hour (at most 31 days) or day (at most 366).")] = "hour",
    tenant: Annotated[
        str | None, Query(max_length=64, description="Platform admin: one tenant (default: every tenant).")
    ] = None,
) -> SeriesOut:
    """Default period: the last 24 hours by the hour, the last 30 days by the day."""
    scope = await asyncio.to_thread(analytics_scope, runtime.engine, principal, tenant)
    try:
        end = _utc(until) if until is not None else datetime.now(UTC)
        period = Period.covering(
            _utc(since) if since is not None else end - DEFAULT_SPAN[bucket], end, bucket
        )
    except OverflowError as exc:
        raise CopilotError(
            ErrorCode.INVALID_ARGUMENTS,
            "`since` and `until` must be dates between the years 1 and 9999 (UTC).",
        ) from exc
    window = timedelta(hours=runtime.settings.resolution_window_hours)
    found = await asyncio.to_thread(_series, runtime.engine, period, scope, window)
    return _out(found, window)


def _series(engine: Engine, period: Period, tenant: str | None, window: timedelta) -> Series:
    """The period's series with the outcomes of the conversations started in it (no intents: not charted)."""
    decided = outcomes(engine, since=period.since, until=period.until, tenant=tenant, window=window)
    return series(engine, period, tenant=tenant, outcomes=decided.conversations)


def _out(found: Series, window: timedelta) -> SeriesOut:
    points = [
        Point(start=start, **tally.summary())
        for start, tally in zip(found.period.starts, found.buckets, strict=True)
    ]
    period = found.period
    return SeriesOut(
        tenant=found.tenant, since=period.since, until=period.until, bucket=period.bucket,
        resolution_window_hours=window.total_seconds() / 3600, buckets=points,
        total=Summary(**found.total.summary()),
    )  # fmt: skip


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
