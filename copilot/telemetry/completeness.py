"""Audit completeness: the share of turn records and gateway calls whose audit row names everything needed to
explain it later — the trace id, the policy version, the prompt version and the model (provider:model).

Rows are counted by kind:
* `turn` — a turn's own record (tool `(turn)`): all four fields;
* `call` — a gateway call made by the copilot: a row written in a turn, or a customer's or guest's call outside
  one (they reach the gateway only through turns, so such a row lost its turn's stamp): all four;
* `human` — outside any turn, a decision a person took or its execution: a confirm/reject, a staff member's
  tool call or approval, the execution a confirmation or approval ran (execute/replay): trace id and policy
  version (no prompt or model took part);
model failures `(model)`, the simulator and data erasure/retention rows are not gateway calls and are left out.
A field counts as present when it is non-empty (and the policy version is not the `-` of non-gateway rows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Engine, and_, case, func, literal, or_, select

from copilot.gateway.audit import TURN_TOOL
from copilot.principal import STAFF_ROLES
from copilot.store.schema import audit_log

Kind = Literal["turn", "call", "human"]
FIELDS = ("trace_id", "policy_version", "prompt_version", "model")
REQUIRED: dict[Kind, tuple[str, ...]] = {"turn": FIELDS, "call": FIELDS, "human": FIELDS[:2]}
NOT_CALLS = ("(model)", "data.erase", "data.retain")
HUMAN_OUTCOMES = ("confirm", "reject", "execute", "replay")
DEFAULT_MINIMUM = 99.9


@dataclass
class KindCount:
    rows: int = 0
    complete: int = 0
    missing: dict[str, int] = field(default_factory=dict)


@dataclass
class Completeness:
    kinds: dict[Kind, KindCount]

    @property
    def rows(self) -> int:
        return sum(k.rows for k in self.kinds.values())

    @property
    def complete(self) -> int:
        return sum(k.complete for k in self.kinds.values())

    @property
    def percent(self) -> float | None:
        """Complete rows as a percentage (None: nothing to count)."""
        return 100.0 * self.complete / self.rows if self.rows else None


def _present(name: str) -> ColumnElement[bool]:
    column = audit_log.c[name]
    present = and_(column.is_not(None), column != "")
    return and_(present, column != "-") if name == "policy_version" else present


def _kind() -> ColumnElement[Any]:
    c = audit_log.c
    decided = or_(c.outcome.in_(HUMAN_OUTCOMES), c.role.in_(sorted(STAFF_ROLES)))
    human = and_(c.turn_id.is_(None), decided)
    return case((c.tool == TURN_TOOL, literal("turn")), (human, literal("human")), else_=literal("call"))


def measure(engine: Engine, *, since: datetime | None = None, tenant: str | None = None) -> Completeness:
    """Count every turn record and gateway call (of `tenant`, at or after `since`) and which fields they lack."""
    c = audit_log.c
    kind = _kind().label("kind")
    counted = [~c.tool.in_(NOT_CALLS), c.outcome != "simulate"]
    if since is not None:
        counted.append(c.at >= since)
    if tenant is not None:
        counted.append(c.tenant == tenant)
    missing = [func.sum(case((_present(name), 0), else_=1)).label(name) for name in FIELDS]
    query = select(kind, func.count().label("rows"), *missing).where(*counted).group_by(kind)
    kinds: dict[Kind, KindCount] = {"turn": KindCount(), "call": KindCount(), "human": KindCount()}
    with engine.connect() as conn:
        groups = conn.execute(query).all()
        for group in groups:
            name: Kind = group.kind
            needed = REQUIRED[name]
            complete = conn.execute(
                select(func.count()).where(*counted, _kind() == name, *(_present(f) for f in needed))
            ).scalar_one()
            kinds[name] = KindCount(
                int(group.rows), int(complete), {f: int(getattr(group, f) or 0) for f in needed}
            )
    return Completeness(kinds)


def report_lines(result: Completeness, minimum: float) -> Sequence[str]:
    lines = []
    for name, count in result.kinds.items():
        share = f"{100.0 * count.complete / count.rows:.2f}%" if count.rows else "-"
        lacking = ", ".join(f"{f} {n}" for f, n in count.missing.items() if n) or "none"
        lines.append(f"{name:5} {count.complete}/{count.rows} complete ({share}); missing: {lacking}")
    percent = result.percent
    total = "no turns or gateway calls to count" if percent is None else f"{percent:.2f}%"
    lines.append(f"audit completeness: {total} ({result.complete}/{result.rows}; minimum {minimum}%)")
    return lines
