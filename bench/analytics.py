"""`python -m bench.analytics [--per-day N] [--days D]`: how long GET /v1/analytics/series takes to compute on a
store with D days of traffic of N conversations a day (SQLite file), for the console's presets: the last 24
hours by the hour and the last 30 days by the day — with and without the conversation outcomes (the first read
of a view folds each conversation's events and keeps the folds in `outcome_facts`; later reads use them).

Each synthetic conversation has two turns (one model call each), its events (turn.started, an answer,
turn.completed per turn), and, spread over them, handoffs (10 %), denials (5 %) and ratings (10 %)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert

from copilot.store.database import make_engine
from copilot.store.schema import audit_log, conversations, events, feedback, handoffs, model_usage, turns
from copilot.telemetry.outcomes import outcomes
from copilot.telemetry.series import Period, series

END = datetime(2026, 11, 30, tzinfo=UTC)


def _conversation(n: int, start: datetime, rows: dict[str, list[dict[str, Any]]]) -> None:
    cid, tenant = f"c{n}", "demo"
    rows["conversations"].append({"id": cid, "tenant": tenant, "customer": f"u{n % 5000}",
        "customer_role": "customer", "status": "active", "created_at": start,
        "updated_at": start + timedelta(minutes=2)})  # fmt: skip
    seq = 0
    for t in range(2):
        at = start + timedelta(minutes=t)
        rows["turns"].append({"turn_id": f"t{n}-{t}", "conversation_id": cid, "principal": {}, "status": "done",
            "outcome": "completed", "attempts": 1, "created_at": at, "finished_at": at + timedelta(seconds=1.5)})  # fmt: skip
        rows["model_usage"].append({"at": at, "tenant": tenant, "provider": "p", "model": "m", "input_tokens": 4000,
            "output_tokens": 80, "estimated": False, "cost_usd": 0.0108})  # fmt: skip
        for kind, data in (("turn.started", {"text": "where is my order?"}), ("message.completed",
                           {"text": "It is on its way."}), ("turn.completed", {"status": "completed"})):  # fmt: skip
            seq += 1
            rows["events"].append({"conversation_id": cid, "seq": seq, "type": kind, "data": data, "at": at})
    if n % 10 == 0:
        seq += 1
        rows["events"].append({"conversation_id": cid, "seq": seq, "type": "handoff.queued",
                               "data": {"reason": "user_request"}, "at": start})  # fmt: skip
        rows["handoffs"].append({"conversation_id": cid, "tenant": tenant, "customer": f"u{n}", "status": "waiting",
            "team": "general", "reason": "user_request", "summary": {}, "created_at": start})  # fmt: skip
    if n % 20 == 1:
        rows["audit_log"].append({"decision_id": f"d{n}", "at": start, "tenant": tenant, "principal": "p",
            "role": "customer", "tool": "get_order_details", "arguments": {}, "outcome": "deny", "code": "denied",
            "policy_version": "1", "latency_ms": 1.0})  # fmt: skip
    if n % 10 == 3:
        rows["feedback"].append({"conversation_id": cid, "message_seq": 2, "tenant": tenant, "customer": f"u{n}",
            "rating": "up", "revisions": 1, "created_at": start, "updated_at": start})  # fmt: skip


def build(path: Path, per_day: int, days: int) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    tables = {t.name: t for t in (conversations, turns, model_usage, events, handoffs, audit_log, feedback)}
    step = timedelta(days=1) / per_day
    n = 0
    for day in range(days):
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in tables}
        begin = END - timedelta(days=days - day)
        for i in range(per_day):
            _conversation(n, begin + i * step, rows)
            n += 1
        with engine.begin() as conn:
            for name, batch in rows.items():
                if batch:
                    conn.execute(insert(tables[name]), batch)
    return engine


def _seconds(call: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best


def measure(per_day: int, days: int, repeat: int = 3) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = build(Path(tmp) / "copilot.db", per_day, days)
        out: dict[str, float] = {}
        for name, span, bucket in (("24h_by_hour", timedelta(days=1), "hour"), ("30d_by_day", timedelta(days=30), "day")):  # fmt: skip
            period = Period.covering(END - span, END, bucket)  # type: ignore[arg-type]

            def counts(p: Period = period) -> object:
                return series(engine, p, tenant="demo")

            def full(p: Period = period) -> object:
                decided = outcomes(engine, since=p.since, until=p.until, tenant="demo")
                return series(engine, p, tenant="demo", outcomes=decided.conversations)

            out[f"{name}_counts_s"] = _seconds(counts, repeat)
            out[f"{name}_with_outcomes_first_s"] = _seconds(full, 1)  # folds every log, keeps the folds
            out[f"{name}_with_outcomes_s"] = _seconds(full, repeat)  # the same view read again
        engine.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.analytics", description=__doc__)
    parser.add_argument("--per-day", type=int, default=2000, help="conversations a day (default 2000)")
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args(argv)
    figures = measure(args.per_day, args.days)
    print(json.dumps({"per_day": args.per_day, "days": args.days, **figures}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
