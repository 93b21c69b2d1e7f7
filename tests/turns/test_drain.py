"""Shutdown: a draining worker lets short turns finish, hands longer ones to recovery (no terminal event of
its own), and another worker on the same database finishes them — exactly one turn.completed each."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from copilot.eventlog import EventLog
from copilot.events import EventSink
from copilot.principal import Principal
from copilot.store.database import make_engine
from copilot.turns import TurnQueue, TurnRequest, TurnRunner, TurnScheduler, TurnStatus
from tests.api.support import ScriptedRunner

ALICE = Principal("demo", "customer", "alice")


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    built = make_engine(f"sqlite:///{tmp_path / 'drain.db'}")
    yield built
    built.dispose()


def worker(engine: Engine, runner: TurnRunner) -> TurnScheduler:
    queue = TurnQueue(engine, lease=timedelta(seconds=0.5))
    return TurnScheduler(queue, EventLog(engine), runner, poll=0.05)


async def by_length(request: TurnRequest, sink: EventSink) -> TurnStatus:
    """A quick answer for "quick …", a 4 s one otherwise."""
    steps = 2 if (request.text or "").startswith("quick") else 80
    for i in range(steps):
        await sink.emit("message.delta", {"text": f"{i} "}, turn_id=request.turn_id)
        await asyncio.sleep(0.05)
    return "completed"


async def kinds(engine: Engine, cid: str) -> list[tuple[str, str | None]]:
    return [
        (e["type"], e["turn_id"])
        for e in await EventLog(engine).read_all(cid)
        if e["type"].startswith("turn.")
    ]


async def test_short_turns_finish_and_long_ones_move_to_another_worker(engine: Engine) -> None:
    first = worker(engine, by_length)
    short = await first.start("short", ALICE, text="quick question")
    long_turn = await first.start("long", ALICE, text="a long answer")
    await asyncio.sleep(0.05)  # both running
    await first.aclose(timeout=1.0)

    assert await kinds(engine, "short") == [("turn.started", short), ("turn.completed", short)]
    assert await kinds(engine, "long") == [("turn.started", long_turn)]  # handed over, not ended
    assert first.draining and await first.active("long")

    takeover = worker(engine, ScriptedRunner(deltas=1))
    takeover.kick()  # the released lease is taken at once, not after it would have expired
    await asyncio.wait_for(takeover.wait_idle("long"), timeout=5)
    await takeover.aclose()
    assert await kinds(engine, "long") == [
        ("turn.started", long_turn),
        ("turn.recovered", long_turn),
        ("turn.completed", long_turn),
    ]


async def test_a_draining_worker_takes_no_new_turn_but_the_turn_is_kept(engine: Engine) -> None:
    runner = ScriptedRunner(deltas=1)
    draining = worker(engine, runner)
    await draining.drain(timeout=0)
    queued = await draining.start("c", ALICE, text="sent during the drain")  # accepted: a 202 is a promise
    await asyncio.sleep(0.2)
    assert runner.requests == [] and await draining.active("c")
    other = worker(engine, ScriptedRunner(deltas=1))
    other.kick()
    await asyncio.wait_for(other.wait_idle("c"), timeout=5)
    await other.aclose()
    await draining.aclose()
    assert await kinds(engine, "c") == [("turn.started", queued), ("turn.completed", queued)]
