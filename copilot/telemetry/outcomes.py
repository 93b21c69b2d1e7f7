"""Outcomes of conversations: resolution (confirmed, assumed), handoff and containment, by intent and by tool.

Counted over the *engaged* conversations started in [since, until) — those where the customer wrote at
least once. Each gets exactly one outcome, decided in this order:

* `handed_off` — a handoff to a human was requested (a `handoffs` row or a `handoff.requested` event).
* `confirmed`  — the customer's latest signal is positive: a thumbs up on an answer, or a message after an
  answer saying it helped (`copilot.llm.resolution.confirms_resolution`). Signals are ordered by their
  place in the conversation: a thumbs down on a later answer outweighs an earlier thank-you.
* `unresolved` — the latest signal is a thumbs down, or the customer started a new conversation within the
  window after this one's last activity (they came back: it was not solved).
* `pending`    — none of the above and the window has not passed yet (`now` < last activity + window).
* `assumed`    — none of the above: no handoff and no new conversation within the window.

Rates divide by every engaged conversation: resolution = (confirmed + assumed) / n, handoff = handed_off / n,
containment = (n − handed_off) / n (no human took part). Resolved ⊆ contained. Cost per resolution = all of
the conversations' model cost (`model_usage`) / (confirmed + assumed). A conversation counts once in
its intent (the first customer message the pack's intent classifier recognises, else `unclear`) and once in
each tool the copilot called in it (`none` when it called none).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from copilot.llm.intents import pack_classifier
from copilot.llm.resolution import confirms_resolution
from copilot.packs import Intent
from copilot.store.schema import conversations, events, feedback, handoffs, model_usage, outcome_facts

Outcome = Literal["confirmed", "assumed", "pending", "handed_off", "unresolved"]
IntentLabeller = Callable[[Sequence[str]], list[str]]
"""Customer messages → one intent label each (`unclear` when none fits)."""
UNCLEAR, NO_TOOL = "unclear", "none"
MIN_SCORE, MIN_MARGIN = 0.3, 0.05
_TYPES = ("turn.started", "message.user", "message.completed", "handoff.requested", "tool.requested",
          "tool.executed", "tool.preview", "tool.denied", "tool.invalid", "tool.error")  # fmt: skip
_CHUNK = 500
_KEPT = ("last_seq", "engaged", "handed_off", "tools", "confirmed_seq")
_log = logging.getLogger(__name__)


@dataclass(slots=True)
class OutcomeCounts:
    conversations: int = 0
    confirmed: int = 0
    assumed: int = 0
    pending: int = 0
    handed_off: int = 0
    unresolved: int = 0
    feedback_up: int = 0
    """Answers rated thumbs up (latest rating) in these conversations."""
    feedback_down: int = 0
    cost_usd: float = 0.0
    """Model cost of these conversations (`model_usage`)."""

    @property
    def resolved(self) -> int:
        return self.confirmed + self.assumed

    @property
    def contained(self) -> int:
        return self.conversations - self.handed_off

    def rate(self, count: int) -> float | None:
        return count / self.conversations if self.conversations else None

    @property
    def resolution_rate(self) -> float | None:
        return self.rate(self.resolved)

    @property
    def confirmed_rate(self) -> float | None:
        return self.rate(self.confirmed)

    @property
    def assumed_rate(self) -> float | None:
        return self.rate(self.assumed)

    @property
    def handoff_rate(self) -> float | None:
        return self.rate(self.handed_off)

    @property
    def containment_rate(self) -> float | None:
        return self.rate(self.contained)

    @property
    def cost_per_resolution(self) -> float | None:
        """All of these conversations' model cost divided by the resolved ones: what a resolution cost."""
        return self.cost_usd / self.resolved if self.resolved else None

    def add(self, item: ConversationOutcome) -> None:
        self.conversations += 1
        setattr(self, item.outcome, getattr(self, item.outcome) + 1)
        self.feedback_up += item.feedback_up
        self.feedback_down += item.feedback_down
        self.cost_usd += item.cost_usd

    def as_dict(self) -> dict[str, Any]:
        counts = {f.name: getattr(self, f.name) for f in fields(self)}
        rates = ("resolution_rate", "confirmed_rate", "assumed_rate", "handoff_rate", "containment_rate",
                 "cost_per_resolution")  # fmt: skip
        return {**counts, **{name: getattr(self, name) for name in rates}}


@dataclass(frozen=True, slots=True)
class ConversationOutcome:
    conversation_id: str
    tenant: str
    started_at: datetime
    intent: str
    tools: tuple[str, ...]
    outcome: Outcome
    confirmed_by: Literal["feedback", "message"] | None = None
    feedback_up: int = 0
    feedback_down: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True)
class OutcomesReport:
    since: datetime | None
    until: datetime | None
    tenant: str | None
    window: timedelta
    total: OutcomeCounts
    by_intent: dict[str, OutcomeCounts]
    by_tool: dict[str, OutcomeCounts]
    by_day: dict[str, OutcomeCounts]
    """UTC day (YYYY-MM-DD) the conversation started → its counts."""
    conversations: list[ConversationOutcome] = field(default_factory=list)


def intent_labeller(intents: Sequence[Intent], articles_dir: Path | None = None) -> IntentLabeller:
    """The pack's intent classifier (the offline model's) as a labeller; `unclear` below its confidence."""
    if not intents:
        return lambda texts: [UNCLEAR for _ in texts]
    classifier = pack_classifier(intents, articles_dir)

    def one(text: str) -> str:
        p = classifier.predict(text)
        return p.label if p.score >= MIN_SCORE and p.margin >= MIN_MARGIN else UNCLEAR

    def label(texts: Sequence[str]) -> list[str]:
        known = {text: one(text) for text in dict.fromkeys(texts)}  # "hi", "where is my order?" recur
        return [known[text] for text in texts]

    return label


def outcomes(
    engine: Engine,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    tenant: str | None = None,
    window: timedelta = timedelta(hours=24),
    labeller: IntentLabeller | None = None,
    now: datetime | None = None,
    remember: bool = True,
) -> OutcomesReport:
    """The outcomes of the conversations started in [since, until) (of `tenant`, or all tenants).

    Without a labeller (intents need the messages) and with `remember`, each conversation's event log is
    folded once and kept in `outcome_facts` until it grows; `remember=False` folds every log afresh."""
    now = now or datetime.now(UTC)
    store: list[dict[str, Any]] = []
    with engine.connect() as conn:
        started = _conversations(conn, since, until, tenant)
        later = _later_starts(conn, started, window)
        ids = [row.id for row in started]
        facts = _remembered(conn, ids, store) if remember and labeller is None else _facts(conn, ids)
    if store:
        _store(engine, store)
    engaged = [row for row in started if facts[row.id].engaged]
    intents = _intents(engaged, facts, labeller)
    results = [
        _decide(row, facts[row.id], intent=intents[row.id], came_back=later[row.id], window=window, now=now)
        for row in engaged
    ]
    return _report(results, since, until, tenant, window)


@dataclass(slots=True)
class _Facts:
    messages: list[str] = field(default_factory=list)
    engaged: bool = False
    """The customer wrote at least once."""
    tools: set[str] = field(default_factory=set)
    signals: list[tuple[int, bool, Literal["feedback", "message"]]] = field(default_factory=list)
    handed_off: bool = False
    up: int = 0
    down: int = 0
    cost: float = 0.0


def _conversations(
    conn: Connection, since: datetime | None, until: datetime | None, tenant: str | None
) -> list[Any]:
    c = conversations.c
    query = select(c.id, c.tenant, c.customer, c.customer_role, c.created_at, c.updated_at).order_by(
        c.created_at
    )
    if since is not None:
        query = query.where(c.created_at >= since)
    if until is not None:
        query = query.where(c.created_at < until)
    if tenant is not None:
        query = query.where(c.tenant == tenant)
    return list(conn.execute(query).all())


def _later_starts(conn: Connection, started: Sequence[Any], window: timedelta) -> dict[str, bool]:
    """Conversation id → its customer started another conversation after it, within the window after its
    last activity."""
    c = conversations.c
    whose = {(row.tenant, row.customer, row.customer_role) for row in started}
    starts: dict[tuple[str, str, str], list[datetime]] = defaultdict(list)
    if started:
        first = min(_utc(row.created_at) for row in started)
        query = select(c.tenant, c.customer, c.customer_role, c.created_at).where(c.created_at > first)
        for row in conn.execute(query):
            if (key := (row.tenant, row.customer, row.customer_role)) in whose:
                starts[key].append(_utc(row.created_at))
    out: dict[str, bool] = {}
    for row in started:
        begun, last = _utc(row.created_at), _utc(row.updated_at) + window
        out[row.id] = any(begun < t <= last for t in starts[(row.tenant, row.customer, row.customer_role)])
    return out


def _facts(conn: Connection, ids: Sequence[str]) -> dict[str, _Facts]:
    facts: dict[str, _Facts] = {cid: _Facts() for cid in ids}
    for chunk in _chunks(ids):
        _fold_events(conn, chunk, facts)
        _fresh(conn, chunk, facts)
    return facts


def _remembered(conn: Connection, ids: Sequence[str], store: list[dict[str, Any]]) -> dict[str, _Facts]:
    """As `_facts`, taking each log's fold from `outcome_facts` while its last seq is unchanged (events are
    append-only) and adding to `store` the folds made afresh. The last seq is read before folding: a fold that
    saw later events is labelled older than it is and so only ever refolded, never wrongly kept."""
    facts: dict[str, _Facts] = {cid: _Facts() for cid in ids}
    e, o = events.c, outcome_facts.c
    for chunk in _chunks(ids):
        ends = select(e.conversation_id, func.max(e.seq)).where(e.conversation_id.in_(chunk))
        last = {cid: int(seq) for cid, seq in conn.execute(ends.group_by(e.conversation_id))}
        kept = {
            row.conversation_id: row
            for row in conn.execute(select(outcome_facts).where(o.conversation_id.in_(chunk)))
        }
        stale = [cid for cid in chunk if (row := kept.get(cid)) is None or row.last_seq != last.get(cid, 0)]
        for cid in set(chunk) - set(stale):
            row, item = kept[cid], facts[cid]
            item.engaged, item.handed_off, item.tools = row.engaged, row.handed_off, set(row.tools)
            if row.confirmed_seq is not None:
                item.signals.append((int(row.confirmed_seq), True, "message"))
        if stale:
            _fold_events(conn, stale, facts)
            store.extend(_folded(cid, last.get(cid, 0), facts[cid]) for cid in stale)
        _fresh(conn, chunk, facts)
    return facts


def _folded(cid: str, last_seq: int, item: _Facts) -> dict[str, Any]:
    """An `outcome_facts` row: what the log alone says (only its latest confirming message matters)."""
    confirmed = max((seq for seq, _, _ in item.signals), default=None)
    return {"conversation_id": cid, "last_seq": last_seq, "engaged": item.engaged,
            "handed_off": item.handed_off, "tools": sorted(item.tools), "confirmed_seq": confirmed}  # fmt: skip


def _store(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Upsert the fresh folds. A cache: when the database is busy they are folded again next time."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(outcome_facts)
    statement = statement.on_conflict_do_update(
        index_elements=[outcome_facts.c.conversation_id],
        set_={name: statement.excluded[name] for name in _KEPT},
    )
    try:
        with engine.begin() as conn:
            for start in range(0, len(rows), _CHUNK):
                conn.execute(statement, rows[start : start + _CHUNK])
    except OperationalError as exc:
        _log.warning("outcome facts not stored (%s); they are folded again on the next report", exc)


def _fold_events(conn: Connection, chunk: Sequence[str], facts: dict[str, _Facts]) -> None:
    e = events.c
    query = (
        select(e.conversation_id, e.seq, e.type, e.data)
        .where(e.conversation_id.in_(chunk), e.type.in_(_TYPES))
        .order_by(e.conversation_id, e.seq)
    )
    answered: dict[str, str] = {}
    for row in conn.execute(query):
        _fold(facts[row.conversation_id], row, answered)


def _fresh(conn: Connection, chunk: Sequence[str], facts: dict[str, _Facts]) -> None:
    """What may change without an event, read on every report: handoff rows, ratings and model cost."""
    handed = select(handoffs.c.conversation_id).where(handoffs.c.conversation_id.in_(chunk))
    for cid in conn.execute(handed).scalars():
        facts[cid].handed_off = True
    rated = select(feedback.c.conversation_id, feedback.c.message_seq, feedback.c.rating)
    for cid, seq, rating in conn.execute(rated.where(feedback.c.conversation_id.in_(chunk))):
        item = facts[cid]
        item.signals.append((int(seq), rating == "up", "feedback"))
        item.up, item.down = item.up + (rating == "up"), item.down + (rating == "down")
    u = model_usage.c
    costs = select(u.conversation_id, func.sum(u.cost_usd)).where(u.conversation_id.in_(chunk))
    for cid, cost in conn.execute(costs.group_by(u.conversation_id)):
        facts[cid].cost = float(cost or 0.0)


def _fold(item: _Facts, row: Any, answered: dict[str, str]) -> None:
    """One event into the conversation's facts; `answered` holds each conversation's latest answer text."""
    data: dict[str, Any] = row.data if isinstance(row.data, dict) else {}
    text = data.get("text")
    if row.type in ("turn.started", "message.user") and isinstance(text, str) and text.strip():
        last = answered.get(row.conversation_id)
        if last is not None and confirms_resolution(text, replying_to=last):
            item.signals.append((int(row.seq), True, "message"))
        item.messages.append(text.strip())
        item.engaged = True
    elif row.type == "message.completed":
        answered[row.conversation_id] = str(text or "")
    elif row.type == "handoff.requested":
        item.handed_off = True
    elif isinstance(data.get("tool"), str):
        item.tools.add(data["tool"])


def _intents(
    rows: Sequence[Any], facts: dict[str, _Facts], labeller: IntentLabeller | None
) -> dict[str, str]:
    """The first customer message with a recognised intent, per conversation: first messages in one labeller
    call, then the second messages of those still unclear, and so on."""
    out = {row.id: UNCLEAR for row in rows}
    if labeller is None:
        return out
    unclear, index = [row.id for row in rows], 0
    while batch := [cid for cid in unclear if index < len(facts[cid].messages)]:
        labels = labeller([facts[cid].messages[index] for cid in batch])
        out.update({cid: label for cid, label in zip(batch, labels, strict=True) if label != UNCLEAR})
        unclear, index = (
            [cid for cid, label in zip(batch, labels, strict=True) if label == UNCLEAR],
            index + 1,
        )
    return out


def _decide(
    row: Any, item: _Facts, *, intent: str, came_back: bool, window: timedelta, now: datetime
) -> ConversationOutcome:
    latest = max(item.signals, default=None)
    outcome: Outcome
    if item.handed_off:
        outcome = "handed_off"
    elif latest is not None and latest[1]:
        outcome = "confirmed"
    elif latest is not None or came_back:
        outcome = "unresolved"
    elif now < _utc(row.updated_at) + window:
        outcome = "pending"
    else:
        outcome = "assumed"
    return ConversationOutcome(
        conversation_id=row.id, tenant=row.tenant, started_at=_utc(row.created_at), intent=intent,
        tools=tuple(sorted(item.tools)), outcome=outcome,
        confirmed_by=latest[2] if outcome == "confirmed" and latest is not None else None,
        feedback_up=item.up, feedback_down=item.down, cost_usd=item.cost,
    )  # fmt: skip


def _report(
    results: list[ConversationOutcome],
    since: datetime | None,
    until: datetime | None,
    tenant: str | None,
    window: timedelta,
) -> OutcomesReport:
    total = OutcomeCounts()
    by_intent: dict[str, OutcomeCounts] = defaultdict(OutcomeCounts)
    by_tool: dict[str, OutcomeCounts] = defaultdict(OutcomeCounts)
    by_day: dict[str, OutcomeCounts] = defaultdict(OutcomeCounts)
    for item in results:
        total.add(item)
        by_intent[item.intent].add(item)
        by_day[item.started_at.date().isoformat()].add(item)
        for tool in item.tools or (NO_TOOL,):
            by_tool[tool].add(item)
    return OutcomesReport(
        since, until, tenant, window, total, _sorted(by_intent), _sorted(by_tool), _sorted(by_day), results
    )


def _sorted(groups: dict[str, OutcomeCounts]) -> dict[str, OutcomeCounts]:
    return dict(sorted(groups.items()))


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns: they were stored as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
