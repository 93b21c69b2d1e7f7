"""Invariants of the outcome counts over random conversation histories written straight into the store: one
outcome per engaged conversation, rates in [0, 1], resolved ⊆ contained, groups that add up, and a longer
window never assumes more."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert

from copilot.eventlog import insert_event
from copilot.packs import Intent
from copilot.store.database import make_engine
from copilot.store.schema import conversations, feedback, handoffs
from copilot.telemetry.outcomes import OutcomeCounts, OutcomesReport, intent_labeller, outcomes
from tests.databases import reset

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
MESSAGES = ["where is my order?", "thanks, that helped!", "that did not help", "how do I return an item?"]
TOOLS = ["get_order_details", "cancel_pending_order", None]

conversation = st.fixed_dictionaries(
    {
        "customer": st.sampled_from(["a", "b", "c"]),
        "start_hours_ago": st.floats(0, 200),
        "length_minutes": st.floats(0, 120),
        "turns": st.lists(
            st.tuples(
                st.sampled_from(MESSAGES), st.sampled_from(TOOLS), st.sampled_from([None, "up", "down"])
            ),
            max_size=4,
        ),
        "handoff": st.booleans(),
    }
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("outcomes") / "copilot.db"
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def _write(engine: Engine, histories: list[dict[str, Any]]) -> None:
    reset(engine)
    with engine.begin() as conn:
        for n, h in enumerate(histories):
            cid, start = f"conv_{n}", NOW - timedelta(hours=float(h["start_hours_ago"]))
            last = start + timedelta(minutes=float(h["length_minutes"]))
            conn.execute(insert(conversations).values(
                id=cid, tenant="demo", customer=h["customer"], customer_role="customer", status="open",
                created_at=start, updated_at=last))  # fmt: skip
            for text, tool, rating in h["turns"]:
                insert_event(conn, cid, "turn.started", {"text": text})
                if tool is not None:
                    insert_event(conn, cid, "tool.executed", {"tool": tool})
                seq = insert_event(conn, cid, "message.completed", {"text": "Here you go."})
                if rating is not None:
                    conn.execute(insert(feedback).values(
                        conversation_id=cid, message_seq=seq, tenant="demo", customer=h["customer"],
                        rating=rating, revisions=1, created_at=last, updated_at=last))  # fmt: skip
            if h["handoff"]:
                conn.execute(insert(handoffs).values(
                    conversation_id=cid, tenant="demo", customer=h["customer"], status="waiting", team="general",
                    reason="user_request", summary={}, created_at=last))  # fmt: skip


def _consistent(counts: OutcomeCounts) -> None:
    parts = counts.confirmed + counts.assumed + counts.pending + counts.handed_off + counts.unresolved
    assert parts == counts.conversations
    for rate in (counts.resolution_rate, counts.confirmed_rate, counts.assumed_rate, counts.handoff_rate,
                 counts.containment_rate):  # fmt: skip
        assert rate is None or 0 <= rate <= 1
    if counts.conversations:
        assert counts.handoff_rate is not None and counts.containment_rate is not None
        assert counts.handoff_rate + counts.containment_rate == pytest.approx(1)
        assert counts.resolved <= counts.contained


def _sum(groups: dict[str, OutcomeCounts]) -> tuple[int, ...]:
    return tuple(
        sum(getattr(g, name) for g in groups.values()) for name in ("conversations", "confirmed", "assumed")
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories=st.lists(conversation, max_size=8), window=st.floats(0.5, 96))
def test_outcome_invariants(engine: Engine, histories: list[dict[str, Any]], window: float) -> None:
    _write(engine, histories)
    report: OutcomesReport = outcomes(engine, window=timedelta(hours=window), now=NOW)
    engaged = sum(1 for h in histories if h["turns"])
    assert report.total.conversations == engaged == len(report.conversations)
    for counts in (
        report.total,
        *report.by_intent.values(),
        *report.by_tool.values(),
        *report.by_day.values(),
    ):
        _consistent(counts)
    total = report.total
    assert (
        _sum(report.by_intent) == _sum(report.by_day) == (total.conversations, total.confirmed, total.assumed)
    )
    assert sum(g.conversations for g in report.by_tool.values()) >= total.conversations
    for item in report.conversations:
        assert (item.outcome == "confirmed") == (item.confirmed_by is not None)
    ups = sum(1 for h in histories for turn in h["turns"] if turn[2] == "up")
    assert total.feedback_up == ups

    longer = outcomes(engine, window=timedelta(hours=window * 2), now=NOW).total
    assert longer.assumed <= total.assumed
    assert (longer.confirmed, longer.handed_off) == (total.confirmed, total.handed_off)


def test_the_intent_is_the_first_message_the_classifier_recognises(engine: Engine) -> None:
    shipping = ("do you offer free shipping", "how much does shipping cost", "is delivery free")
    orders = ("where is my order", "track my order", "has my order shipped yet")
    labeller = intent_labeller([Intent("shipping", "article", "shipping-options", shipping),
                                Intent("track_order", "tool", "get_order_details", orders)])  # fmt: skip
    turns = [
        ("hello there", None, None),
        ("is shipping free for me?", None, None),
        ("where is my order", None, None),
    ]
    _write(engine, [{"customer": "a", "start_hours_ago": 50.0, "length_minutes": 3.0, "turns": turns, "handoff": False},
                    {"customer": "b", "start_hours_ago": 50.0, "length_minutes": 3.0, "turns": turns[:1],
                     "handoff": False}])  # fmt: skip
    report = outcomes(engine, now=NOW, labeller=labeller)
    assert {item.conversation_id: item.intent for item in report.conversations} == {
        "conv_0": "shipping", "conv_1": "unclear"
    }  # fmt: skip
    assert list(report.by_intent) == ["shipping", "unclear"]
