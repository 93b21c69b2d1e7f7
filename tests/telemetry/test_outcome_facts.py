"""The outcome facts kept in `outcome_facts` change nothing: over random histories that keep growing (messages,
tools, ratings changed later, handoffs, time passing), the report built from kept folds equals the one folded
afresh from every event, after every step, on SQLite and PostgreSQL; and a fold is redone only for a log that
grew."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, insert, select, update

from copilot.eventlog import insert_event
from copilot.store.database import make_engine
from copilot.store.schema import conversations, events, feedback, handoffs, outcome_facts
from copilot.telemetry.outcomes import outcomes
from tests.databases import BACKENDS, postgres_database, reset

START = datetime(2026, 11, 20, 9, tzinfo=UTC)
TEXTS = ["where is my order?", "thanks, that helped!", "that did not help", "hi"]
TOOLS = ["get_order_details", "cancel_pending_order"]

step = st.one_of(
    st.tuples(st.just("say"), st.integers(0, 3), st.sampled_from(TEXTS)),
    st.tuples(st.just("tool"), st.integers(0, 3), st.sampled_from(TOOLS)),
    st.tuples(st.just("rate"), st.integers(0, 3), st.sampled_from(["up", "down"])),
    st.tuples(st.just("handoff"), st.integers(0, 3), st.just("")),
    st.tuples(st.just("wait"), st.integers(1, 60), st.just("")),
)


@pytest.fixture(scope="module", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("facts") / "copilot.db"
        made = make_engine(f"sqlite:///{path}")
        yield made
        made.dispose()
        return
    with postgres_database() as url:
        made = make_engine(url)
        yield made
        made.dispose()


class World:
    """Four conversations (two customers) whose logs the steps extend, and the clock."""

    def __init__(self, engine: Engine, customers: str = "abab") -> None:
        self.engine, self.now = engine, START
        reset(engine)
        with engine.begin() as conn:
            for n in range(4):
                conn.execute(insert(conversations).values(
                    id=f"conv_{n}", tenant="demo", customer=customers[n], customer_role="customer",
                    status="open", created_at=START + timedelta(hours=n), updated_at=START + timedelta(hours=n)))  # fmt: skip

    def apply(self, kind: str, n: int, value: str) -> None:
        if kind == "wait":
            self.now += timedelta(hours=n)
            return
        cid = f"conv_{n}"
        with self.engine.begin() as conn:
            if kind == "say":
                insert_event(conn, cid, "turn.started", {"text": value})
                insert_event(conn, cid, "message.completed", {"text": "It is on its way."})
            elif kind == "tool":
                insert_event(conn, cid, "tool.executed", {"tool": value})
            elif kind == "rate":
                answers = select(func.max(events.c.seq)).where(
                    events.c.conversation_id == cid, events.c.type == "message.completed"
                )
                if (seq := conn.execute(answers).scalar()) is None:
                    return
                f = feedback.c
                changed = conn.execute(
                    update(feedback)
                    .where(f.conversation_id == cid, f.message_seq == seq)
                    .values(rating=value)
                )
                if not changed.rowcount:
                    conn.execute(insert(feedback).values(
                        conversation_id=cid, message_seq=seq, tenant="demo", customer="a", rating=value,
                        revisions=1, created_at=self.now, updated_at=self.now))  # fmt: skip
            elif kind == "handoff":
                if conn.execute(
                    select(handoffs.c.conversation_id).where(handoffs.c.conversation_id == cid)
                ).first():
                    return
                conn.execute(insert(handoffs).values(
                    conversation_id=cid, tenant="demo", customer="a", status="waiting", team="general",
                    reason="user_request", summary={}, created_at=self.now))  # fmt: skip
            if kind != "rate":
                c = conversations.c
                conn.execute(update(conversations).where(c.id == cid).values(updated_at=self.now))


def _both(world: World, window: timedelta) -> tuple[Any, Any]:
    kept = outcomes(world.engine, window=window, now=world.now)
    fresh = outcomes(world.engine, window=window, now=world.now, remember=False)
    return kept, fresh


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, max_size=8), window=st.integers(1, 48))
def test_kept_folds_give_the_report_folded_afresh(
    engine: Engine, steps: list[tuple[str, int, str]], window: int
) -> None:
    world = World(engine)
    for kind, n, value in [("say", 0, "hi"), *steps]:
        world.apply(kind, n, value)
        kept, fresh = _both(world, timedelta(hours=window))
        assert kept == fresh
        assert (
            outcomes(engine, window=timedelta(hours=window), now=world.now) == fresh
        )  # read from the kept rows


def _last_seqs(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(outcome_facts.c.conversation_id, outcome_facts.c.last_seq))
        return {cid: int(seq) for cid, seq in rows}


def test_only_a_grown_log_is_folded_again(engine: Engine) -> None:
    world = World(engine, customers="abcd")
    for n in range(3):
        world.apply("say", n, "where is my order?")
    world.apply("wait", 30, "")
    before = outcomes(engine, now=world.now)
    assert [item.outcome for item in before.conversations] == ["assumed"] * 3
    assert _last_seqs(engine) == {"conv_0": 2, "conv_1": 2, "conv_2": 2, "conv_3": 0}

    with engine.begin() as conn:  # a kept fold is what the report uses: a wrong one would show
        conn.execute(
            update(outcome_facts).where(outcome_facts.c.conversation_id == "conv_1").values(handed_off=True)
        )
    assert [item.outcome for item in outcomes(engine, now=world.now).conversations] == [
        "assumed",
        "handed_off",
        "assumed",
    ]

    world.apply("say", 1, "thanks, that helped!")  # the log grew: folded again, the others kept
    after = outcomes(engine, now=world.now)
    assert [(item.outcome, item.confirmed_by) for item in after.conversations] == [
        ("assumed", None), ("confirmed", "message"), ("assumed", None)
    ]  # fmt: skip
    assert _last_seqs(engine) == {"conv_0": 2, "conv_1": 4, "conv_2": 2, "conv_3": 0}
    world.apply("rate", 1, "down")  # a later rating needs no new event: read fresh on every report
    assert outcomes(engine, now=world.now).conversations[1].outcome == "unresolved"
