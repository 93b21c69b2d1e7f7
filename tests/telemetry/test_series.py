"""Analytics time series (copilot/telemetry/series.py): periods cover what was asked in whole UTC buckets and
refuse what is inverted or too long; every row of the tenant inside the period is counted in exactly one
bucket (and in the total), rows of other tenants or outside the period never, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert

from copilot.errors import CopilotError, ErrorCode
from copilot.store.schema import audit_log, conversations, events, handoffs, model_usage, turns
from copilot.telemetry.metrics import reason_label
from copilot.telemetry.series import MAX_BUCKETS, STEP, Bucket, Period, p95, series
from tests.databases import BACKENDS, fresh_engine, reset

BASE = datetime(2026, 11, 16, tzinfo=UTC)
buckets = st.sampled_from(["hour", "day"])
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC))


@given(since=moments, span=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=400)),
       bucket=buckets)  # fmt: skip
def test_a_period_covers_what_was_asked_in_whole_buckets(
    since: datetime, span: timedelta, bucket: Bucket
) -> None:
    until, step = since + span, STEP[bucket]
    try:
        period = Period.covering(since, until, bucket)
    except CopilotError as exc:
        assert exc.code == ErrorCode.INVALID_ARGUMENTS and f"at most {MAX_BUCKETS[bucket]}" in exc.message
        assert math.ceil(span / step) >= MAX_BUCKETS[bucket]
        return
    starts = period.starts
    assert period.since <= since < until <= period.until and 1 <= len(starts) <= MAX_BUCKETS[bucket]
    assert period.since.minute == period.since.second == period.since.microsecond == 0
    assert bucket == "hour" or period.since.hour == 0
    assert period.until - period.since == len(starts) * step and period.until - until < step
    for moment in (since, until - timedelta(microseconds=1), period.since, period.until - step):
        index = period.index(moment)
        assert index is not None and starts[index] <= moment < starts[index] + step
    assert (
        period.index(period.until) is None and period.index(period.since - timedelta(microseconds=1)) is None
    )


@given(
    moment=moments, back=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)), bucket=buckets
)
def test_an_inverted_or_empty_period_says_to_swap(moment: datetime, back: timedelta, bucket: Bucket) -> None:
    with pytest.raises(CopilotError) as refused:
        Period.covering(moment, moment - back, bucket)
    assert refused.value.code == ErrorCode.INVALID_ARGUMENTS and "swap" in refused.value.message


@given(st.lists(st.floats(min_value=0, max_value=1e4, allow_nan=False), max_size=60))
def test_p95_is_the_nearest_rank(values: list[float]) -> None:
    got = p95(values)
    if not values:
        assert got is None
        return
    assert got in values
    assert sum(v <= got for v in values) >= 0.95 * len(values) > sum(v < got for v in values)


def test_every_handoff_reason_the_copilot_gives_has_its_own_label() -> None:
    """The reasons the graph, the handoff API and the budget wrapper write (not the customer's free text)."""
    given = ["user_request", "model_request", "validation_failed", "repeated_tool_failure", "budget_exceeded",
             "customer_request", "agent_request", "agent_takeover"]  # fmt: skip
    assert [reason_label(r) for r in given] == given
    assert reason_label("my parcel is lost, call me") == "other"


Kind = Literal["turn", "deny", "approval_pending", "usage", "handoff"]


@dataclass(frozen=True)
class Row:
    kind: Kind
    tenant: Literal["a", "b"]
    at: timedelta
    """After BASE."""
    latency: timedelta


rows = st.lists(
    st.builds(
        Row,
        kind=st.sampled_from(["turn", "deny", "approval_pending", "usage", "handoff"]),
        tenant=st.sampled_from(["a", "b"]),
        at=st.one_of(
            st.integers(min_value=-48, max_value=96).map(lambda h: timedelta(hours=h)),  # on a bucket edge
            st.integers(min_value=-2 * 86400 * 10**6, max_value=4 * 86400 * 10**6).map(
                lambda us: timedelta(microseconds=us)
            ),
        ),
        latency=st.integers(min_value=0, max_value=90_000_000).map(lambda us: timedelta(microseconds=us)),
    ),
    max_size=40,
)


@pytest.fixture(scope="module", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    tmp: Path = tmp_path_factory.mktemp("series")
    with fresh_engine(str(request.param), tmp) as opened:
        yield opened


def _store(engine: Engine, items: list[Row]) -> None:
    reset(engine)
    with engine.begin() as conn:
        for tenant in ("a", "b"):
            conn.execute(insert(conversations).values(
                id=f"c_{tenant}", tenant=tenant, customer="u", customer_role="customer", status="active",
                created_at=BASE, updated_at=BASE,
            ))  # fmt: skip
        for n, row in enumerate(items):
            _insert(conn, n, row)
        for tenant in ("a", "b"):
            queued = [BASE + r.at for r in items if r.kind == "handoff" and r.tenant == tenant]
            if queued:  # the queue row holds the latest handoff
                conn.execute(insert(handoffs).values(
                    conversation_id=f"c_{tenant}", tenant=tenant, customer="u", status="waiting", team="general",
                    reason="x", summary={}, created_at=max(queued),
                ))  # fmt: skip


def _insert(conn: object, n: int, row: Row) -> None:
    at, cid = BASE + row.at, f"c_{row.tenant}"
    execute = conn.execute  # type: ignore[attr-defined]
    if row.kind == "turn":
        execute(insert(turns).values(
            turn_id=f"t{n}", conversation_id=cid, principal={}, status="done", outcome="completed",
            attempts=1, created_at=at - row.latency, finished_at=at,
        ))  # fmt: skip
    elif row.kind in ("deny", "approval_pending"):
        execute(insert(audit_log).values(
            decision_id=f"d{n}", at=at, tenant=row.tenant, principal="p", role="customer", tool=f"tool{n % 3}",
            arguments={}, outcome="deny", code="denied" if row.kind == "deny" else "approval_pending",
            policy_version="1", latency_ms=0.0,
        ))  # fmt: skip
    elif row.kind == "usage":
        execute(insert(model_usage).values(
            at=at, tenant=row.tenant, provider="p", model="m", input_tokens=n, output_tokens=1, estimated=False,
            cost_usd=0.25,
        ))  # fmt: skip
    else:
        reason = ("user_request", "validation_failed", "something else")[n % 3]
        execute(insert(events).values(
            conversation_id=cid, seq=n + 1, type="handoff.queued", data={"reason": reason}, at=at,
        ))  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=rows, start=st.integers(min_value=-30, max_value=60), hours=st.integers(1, 72), bucket=buckets)
def test_every_row_of_the_tenant_in_the_period_is_counted_once(
    engine: Engine, items: list[Row], start: int, hours: int, bucket: Bucket
) -> None:
    _store(engine, items)
    period = Period.covering(BASE + timedelta(hours=start), BASE + timedelta(hours=start + hours), bucket)
    got = series(engine, period, tenant="a")
    mine = [r for r in items if r.tenant == "a" and period.index(BASE + r.at) is not None]
    for index, tally in enumerate(got.buckets):
        here = [r for r in mine if period.index(BASE + r.at) == index]
        latencies = [r.latency.total_seconds() for r in here if r.kind == "turn"]
        assert sum(tally.turn_ends.values()) == len(latencies)
        assert sorted(tally.latencies) == pytest.approx(sorted(latencies), abs=1e-3)  # to the millisecond
        assert sum(tally.denials.values()) == sum(r.kind == "deny" for r in here)
        assert tally.model_calls == sum(r.kind == "usage" for r in here)
        assert tally.cost_usd == pytest.approx(0.25 * tally.model_calls)
        assert sum(tally.handoffs.values()) == sum(r.kind == "handoff" for r in here)
        assert set(tally.handoffs) <= {"user_request", "validation_failed", "other"}
    total = got.total.summary()
    assert total["turns"] == sum(r.kind == "turn" for r in mine)
    assert total["denials"] == sum(r.kind == "deny" for r in mine)
    assert total["handoffs"] == sum(r.kind == "handoff" for r in mine)
    assert total["model_calls"] == sum(r.kind == "usage" for r in mine)
    everyone = series(engine, period, tenant=None).total.summary()
    both = [r for r in items if period.index(BASE + r.at) is not None]
    assert everyone["turns"] == sum(r.kind == "turn" for r in both)
    assert everyone["handoffs"] == sum(r.kind == "handoff" for r in both)
