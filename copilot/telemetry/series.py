"""Time series for the admin console's analytics: what happened in each UTC hour or day of a bounded period.

Per bucket, read from the tables that record it (nothing is sampled):

* turns finished in the bucket (`turns`, status done) by how they ended, and the p95 of their latency — from
  the message (or confirmation) being accepted to the turn's end, queueing included: what the customer waited;
* handoffs by reason (`handoff.queued` events: one per time a conversation entered the queue; reasons outside
  the fixed set are `other`, as in the Prometheus labels);
* tool denials (gateway `deny` audit rows; a write waiting for a supervisor's approval is not a denial);
* model cost and tokens spent in the bucket (`model_usage`);
* conversation outcomes (resolution confirmed/assumed, feedback) of the conversations *started* in the bucket,
  as `copilot/telemetry/outcomes.py` decides them — passed in, not recomputed here.

Cost per resolved conversation of a bucket is the bucket's whole model cost (handed-off conversations
included) divided by the resolved conversations started in it, as in `copilot usage report`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol, get_args

from sqlalchemy import ColumnElement, Connection, Engine, Integer, Select, cast, extract, func, select

from copilot.errors import CopilotError, ErrorCode
from copilot.store.schema import audit_log, conversations, events, handoffs, model_usage, turns
from copilot.telemetry.metrics import reason_label

Bucket = Literal["hour", "day"]
BUCKETS: tuple[Bucket, ...] = get_args(Bucket)
STEP: dict[Bucket, timedelta] = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
MAX_BUCKETS: dict[Bucket, int] = {"hour": 24 * 31, "day": 366}
"""At most 31 days by the hour, a year by the day."""
TURN_ENDS = ("completed", "awaiting_confirmation", "handoff", "failed", "cancelled")
_NOT_DENIALS = ("approval_pending",)
_ROWS = 2_000


def utc(moment: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns: they were stored as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _floor(moment: datetime, bucket: Bucket) -> datetime:
    moment = utc(moment).replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if bucket == "day" else moment


@dataclass(frozen=True, slots=True)
class Period:
    """[since, until) cut into equal UTC buckets; both ends fall on bucket boundaries."""

    since: datetime
    until: datetime
    bucket: Bucket

    @classmethod
    def covering(cls, since: datetime, until: datetime, bucket: Bucket) -> Period:
        """The buckets covering [since, until): `since` rounded down, `until` up to a boundary. 422
        `invalid_arguments` when `until` is not after `since` or the period has too many buckets."""
        since, until = utc(since), utc(until)
        if until <= since:
            raise CopilotError(
                ErrorCode.INVALID_ARGUMENTS,
                f"`until` ({until.isoformat()}) must be after `since` ({since.isoformat()}); swap them.",
            )
        start, step = _floor(since, bucket), STEP[bucket]
        count = math.ceil((until - start) / step)
        if count > MAX_BUCKETS[bucket]:
            longest = "31 days" if bucket == "hour" else "366 days"
            other = " or bucket=day" if bucket == "hour" else ""
            raise CopilotError(
                ErrorCode.INVALID_ARGUMENTS,
                f"The period spans {count} {bucket}s; at most {MAX_BUCKETS[bucket]} ({longest}) are served: "
                f"choose a shorter period{other}.",
            )
        return cls(start, start + count * step, bucket)

    @property
    def starts(self) -> list[datetime]:
        step = STEP[self.bucket]
        return [self.since + i * step for i in range((self.until - self.since) // step)]

    def index(self, moment: datetime) -> int | None:
        """The bucket of `moment`, None outside the period."""
        moment = utc(moment)
        if not self.since <= moment < self.until:
            return None
        return (moment - self.since) // STEP[self.bucket]


class ConversationOutcomeLike(Protocol):
    """What the series needs of one conversation's outcome (copilot.telemetry.outcomes)."""

    @property
    def started_at(self) -> datetime: ...
    @property
    def outcome(self) -> str: ...
    @property
    def feedback_up(self) -> int: ...
    @property
    def feedback_down(self) -> int: ...


OUTCOMES = ("confirmed", "assumed", "pending", "handed_off", "unresolved")


def p95(values: Sequence[float]) -> float | None:
    """The 95th percentile by nearest rank (a value that occurred), None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


@dataclass(slots=True)
class Tally:
    """Everything counted in one bucket (or the whole period)."""

    turn_ends: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    handoffs: Counter[str] = field(default_factory=Counter)
    denials: Counter[str] = field(default_factory=Counter)
    """Denied tool → count."""
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    model_calls: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    feedback_up: int = 0
    feedback_down: int = 0

    @property
    def resolved(self) -> int:
        return self.outcomes["confirmed"] + self.outcomes["assumed"]

    @property
    def cost_per_resolved(self) -> float | None:
        return self.cost_usd / self.resolved if self.resolved else None

    def summary(self) -> dict[str, Any]:
        return {
            "turns": sum(self.turn_ends.values()),
            "turns_by_end": {end: self.turn_ends[end] for end in TURN_ENDS},
            "latency_p95_seconds": p95(self.latencies),
            "handoffs": sum(self.handoffs.values()),
            "handoffs_by_reason": dict(sorted(self.handoffs.items())),
            "denials": sum(self.denials.values()),
            "denials_by_tool": dict(sorted(self.denials.items())),
            "cost_usd": self.cost_usd,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "model_calls": self.model_calls,
            "conversations": sum(self.outcomes.values()),
            **{name: self.outcomes[name] for name in OUTCOMES},
            "resolved": self.resolved,
            "cost_per_resolved_usd": self.cost_per_resolved,
            "feedback_up": self.feedback_up,
            "feedback_down": self.feedback_down,
        }


@dataclass(frozen=True)
class Series:
    period: Period
    tenant: str | None
    buckets: list[Tally]
    total: Tally


def series(
    engine: Engine,
    period: Period,
    *,
    tenant: str | None,
    outcomes: Iterable[ConversationOutcomeLike] = (),
) -> Series:
    """Count the period's turns, handoffs, denials and usage per bucket (of `tenant`, None: every tenant),
    plus the `outcomes` of the conversations started in it."""
    buckets = [Tally() for _ in period.starts]
    total = Tally()
    with engine.connect() as conn:
        for reader in (_turns, _handoffs, _denials, _usage):
            for index, add in reader(conn, period, tenant):
                if index is not None and 0 <= index < len(buckets):
                    add(buckets[index])
                    add(total)
    for item in outcomes:
        index = period.index(item.started_at)
        if index is not None:
            _add_outcome(buckets[index], item)
            _add_outcome(total, item)
    return Series(period, tenant, buckets, total)


def _add_outcome(tally: Tally, item: ConversationOutcomeLike) -> None:
    tally.outcomes[item.outcome] += 1
    tally.feedback_up += item.feedback_up
    tally.feedback_down += item.feedback_down


class _Add(Protocol):
    def __call__(self, tally: Tally, /) -> None: ...


Reading = Iterator[tuple[int | None, _Add]]
"""(bucket index, what to add to that bucket and the total)."""


def _bucket_sql(conn: Connection, column: Any, period: Period) -> ColumnElement[int]:
    """The bucket index of `column` computed by the database, exactly (whole seconds since `period.since`
    divided by the bucket's seconds), so high-volume sources are counted with GROUP BY."""
    since, step = int(period.since.timestamp()), int(STEP[period.bucket].total_seconds())
    if conn.dialect.name == "sqlite":  # stored as UTC text 'YYYY-MM-DD HH:MM:SS.ffffff'
        # strftime('%s') reads it as UTC but rounds to the millisecond first (23:59:59.9996 would become the
        # next day): whole seconds are read from the text's first 19 characters, truncated like Period.index.
        seconds: ColumnElement[Any] = cast(func.strftime("%s", func.substr(column, 1, 19)), Integer)
        return cast((seconds - since) / step, Integer)
    return cast(func.floor((extract("epoch", column) - since) / step), Integer)


def _rows(conn: Connection, query: Select[Any]) -> Iterator[Any]:
    result = conn.execution_options(stream_results=True, yield_per=_ROWS).execute(query)
    yield from result


def _turns(conn: Connection, period: Period, tenant: str | None) -> Reading:
    t = turns.c
    bucket = _bucket_sql(conn, t.finished_at, period)
    query = select(bucket, t.outcome, _seconds_between(conn, t.created_at, t.finished_at)).where(
        t.status == "done", t.finished_at >= period.since, t.finished_at < period.until
    )
    if tenant is not None:
        mine = select(conversations.c.id).where(conversations.c.tenant == tenant)
        query = query.where(t.conversation_id.in_(mine))
    for index, end, seconds in _rows(conn, query):
        yield int(index), _turn_adder(str(end), max(round(float(seconds), 3), 0.0))


def _seconds_between(conn: Connection, start: Any, end: Any) -> ColumnElement[Any]:
    """end − start in seconds, computed by the database (to the millisecond on SQLite)."""
    if conn.dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return extract("epoch", end - start)


def _turn_adder(end: str, seconds: float) -> _Add:
    def add(tally: Tally) -> None:
        tally.turn_ends[end] += 1
        tally.latencies.append(seconds)

    return add


def _handoffs(conn: Connection, period: Period, tenant: str | None) -> Reading:
    # Every handed-off conversation has a queue row whose created_at is its latest handoff: one at or after
    # `since` narrows the event scan to those conversations' logs (the events primary key).
    h, e = handoffs.c, events.c
    queued = select(h.conversation_id).where(h.created_at >= period.since)
    if tenant is not None:
        queued = queued.where(h.tenant == tenant)
    query = select(e.at, e.data).where(
        e.conversation_id.in_(queued), e.type == "handoff.queued", e.at >= period.since, e.at < period.until
    )
    for row in _rows(conn, query):
        data = row.data if isinstance(row.data, dict) else {}
        yield period.index(row.at), _counter_adder("handoffs", reason_label(str(data.get("reason", ""))))


def _counter_adder(name: Literal["handoffs", "denials"], key: str, count: int = 1) -> _Add:
    def add(tally: Tally) -> None:
        getattr(tally, name)[key] += count

    return add


def _denials(conn: Connection, period: Period, tenant: str | None) -> Reading:
    a = audit_log.c
    bucket = _bucket_sql(conn, a.at, period).label("bucket")
    query = (
        select(bucket, a.tool, func.count())
        .where(
            a.outcome == "deny",
            (a.code.is_(None)) | (a.code.not_in(_NOT_DENIALS)),
            a.at >= period.since,
            a.at < period.until,
        )
        .group_by(bucket, a.tool)
    )
    if tenant is not None:
        query = query.where(a.tenant == tenant)
    for index, tool, count in conn.execute(query):
        yield int(index), _counter_adder("denials", str(tool), int(count))


def _usage(conn: Connection, period: Period, tenant: str | None) -> Reading:
    u = model_usage.c
    bucket = _bucket_sql(conn, u.at, period).label("bucket")
    query = (
        select(
            bucket, func.count(), func.sum(u.cost_usd), func.sum(u.input_tokens), func.sum(u.output_tokens)
        )
        .where(u.at >= period.since, u.at < period.until)
        .group_by(bucket)
    )
    if tenant is not None:
        query = query.where(u.tenant == tenant)
    for index, calls, cost, input_tokens, output_tokens in conn.execute(query):
        yield (
            int(index),
            _usage_adder(int(calls), float(cost or 0), int(input_tokens or 0), int(output_tokens or 0)),
        )


def _usage_adder(calls: int, cost: float, input_tokens: int, output_tokens: int) -> _Add:
    def add(tally: Tally) -> None:
        tally.model_calls += calls
        tally.cost_usd += cost
        tally.input_tokens += input_tokens
        tally.output_tokens += output_tokens

    return add
