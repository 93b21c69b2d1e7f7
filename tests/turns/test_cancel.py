"""Cancelling a turn: it ends with exactly one turn.completed {cancelled}, whichever worker runs it — at once
on the same worker, by the heartbeat on another (no shared doorbell), and by recovery when its worker died."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, update

from copilot.eventlog import EventLog
from copilot.store.database import make_engine
from copilot.store.schema import turns
from copilot.turns import TurnScheduler
from tests.turns.test_drain import ALICE, by_length, kinds, worker


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    built = make_engine(f"sqlite:///{tmp_path / 'cancel.db'}")
    yield built
    built.dispose()


async def ended(engine: Engine, cid: str) -> list[str]:
    return [
        str(e["data"]["status"])
        for e in await EventLog(engine).read_all(cid)
        if e["type"] == "turn.completed"
    ]


async def running(scheduler: TurnScheduler) -> None:
    async with asyncio.timeout(5):
        while scheduler.running == 0:
            await asyncio.sleep(0.01)


async def wait_ended(engine: Engine, cid: str, seconds: float = 5) -> list[str]:
    async with asyncio.timeout(seconds):
        while not (done := await ended(engine, cid)):
            await asyncio.sleep(0.02)
    return done


async def test_cancel_on_the_running_worker_is_immediate(engine: Engine) -> None:
    one = worker(engine, by_length)
    turn = await one.start("c1", ALICE, text="a long answer")
    await running(one)
    started = asyncio.get_running_loop().time()
    assert (await one.cancel("c1")).running == [turn]
    assert await wait_ended(engine, "c1") == ["cancelled"]
    assert asyncio.get_running_loop().time() - started < 1.0
    assert (await one.cancel("c1")).turn_ids == []  # nothing runs any more: a second cancel is a no-op
    quick = await one.start("c1", ALICE, text="quick one")  # the conversation goes on
    await one.wait_idle("c1")
    assert await ended(engine, "c1") == ["cancelled", "completed"]
    assert await kinds(engine, "c1") == [
        ("turn.started", turn), ("turn.completed", turn), ("turn.started", quick), ("turn.completed", quick)
    ]  # fmt: skip
    await one.aclose()


async def test_cancel_from_another_worker_stops_it_by_the_heartbeat(engine: Engine) -> None:
    runner, other = (
        worker(engine, by_length),
        worker(engine, by_length),
    )  # separate doorbells: no ring crosses
    await runner.start("c2", ALICE, text="a long answer")
    await running(runner)
    assert len((await other.cancel("c2")).running) == 1
    assert await wait_ended(engine, "c2", seconds=2) == ["cancelled"]  # lease 0.5 s: heartbeat every ~0.17 s
    await asyncio.sleep(0.3)
    assert await ended(engine, "c2") == ["cancelled"]  # exactly once
    await runner.aclose()
    await other.aclose()


async def test_a_marked_turn_of_a_dead_worker_ends_cancelled_on_recovery(engine: Engine) -> None:
    dead = worker(engine, by_length)
    turn = await dead.start("c3", ALICE, text="a long answer")
    await running(dead)
    await dead.aclose(timeout=0)  # its worker goes away mid-turn: no terminal event of its own
    assert await ended(engine, "c3") == []
    with engine.begin() as conn:  # the cancel arrived while it was dead
        conn.execute(
            update(turns).where(turns.c.turn_id == turn).values(cancel_requested_at=turns.c.created_at)
        )
    survivor = worker(engine, by_length)
    survivor.open()
    assert await wait_ended(engine, "c3", seconds=3) == ["cancelled"]
    await survivor.aclose()
