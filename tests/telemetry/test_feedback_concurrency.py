"""Ratings of one answer sent at the same time (two tabs, a double click) on SQLite and Postgres: one row, and
every change it went through is one feedback.recorded event, the last of which is the row's rating."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from copilot.conversations import Conversation
from copilot.eventlog import EventLog, insert_event
from copilot.feedback import FeedbackStore, Rating
from copilot.store.schema import conversations, events, feedback
from tests.databases import BACKENDS, fresh_engine


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with fresh_engine(request.param, tmp_path) as made:
        yield made


async def test_concurrent_ratings_leave_one_row_and_a_consistent_history(engine: Engine) -> None:
    now = datetime.now(UTC)
    talk = Conversation("conv_race", "demo", "alex", "customer", "open", now, now)
    with engine.begin() as conn:
        conn.execute(insert(conversations).values(id=talk.id, tenant="demo", customer="alex",
                     customer_role="customer", status="open", created_at=now, updated_at=now))  # fmt: skip
        answer = insert_event(conn, talk.id, "message.completed", {"text": "It ships in 3 days."}, "turn_1")
    log = EventLog(engine)
    store = FeedbackStore(engine, log)
    ratings: list[Rating] = ["up", "down"] * 4
    results = await asyncio.gather(
        *(store.record(talk, answer, r, f"try {i % 2}") for i, r in enumerate(ratings))
    )
    await log.aclose()

    with engine.connect() as conn:
        rows = conn.execute(select(feedback)).all()
        recorded = (
            conn.execute(
                select(events.c.data).where(events.c.type == "feedback.recorded").order_by(events.c.seq)
            )
            .scalars()
            .all()
        )
    assert len(rows) == 1 and rows[0].turn_id == "turn_1"
    assert rows[0].revisions == len(recorded) == sum(changed for _, changed in results)
    assert (recorded[-1]["rating"], recorded[-1]["comment"]) == (rows[0].rating, rows[0].comment)
    assert recorded[0]["replaced"] is None and all(r["replaced"] is not None for r in recorded[1:])
