"""The event log: per-conversation increasing seq under concurrency, reads after a seq, live tails."""

from __future__ import annotations

import asyncio
from pathlib import Path

from copilot.eventlog import EventLog
from copilot.store.database import make_engine


def _log(tmp_path: Path) -> EventLog:
    return EventLog(make_engine(f"sqlite:///{tmp_path / 'e.db'}"))


async def test_concurrent_appends_get_distinct_increasing_seqs(tmp_path: Path) -> None:
    log = _log(tmp_path)
    seqs = await asyncio.gather(*(log.append(f"c{i % 2}", "message.delta", {"i": i}) for i in range(40)))
    assert sorted(seqs[0::2]) == list(range(1, 21))
    assert sorted(seqs[1::2]) == list(range(1, 21))
    stored = await log.read_all("c0")
    assert [e["seq"] for e in stored] == list(range(1, 21))


async def test_two_logs_on_one_database_retry_on_conflict(tmp_path: Path) -> None:
    """Two EventLog instances (as two worker processes would) never hand out the same seq."""
    engine = make_engine(f"sqlite:///{tmp_path / 'e.db'}")
    first, second = EventLog(engine), EventLog(engine)
    seqs = await asyncio.gather(*(log.append("c", "message.delta", {}) for log in [first, second] * 15))
    assert sorted(seqs) == list(range(1, 31))


async def test_read_after_returns_only_later_events(tmp_path: Path) -> None:
    log = _log(tmp_path)
    for i in range(5):
        await log.append("c", "message.delta", {"i": i}, turn_id="t1")
    after = await log.read_after("c", 3)
    assert [(e["seq"], e["data"]["i"], e["turn_id"]) for e in after] == [(4, 3, "t1"), (5, 4, "t1")]
    assert await log.read_after("other", 0) == []


async def test_tail_wakes_on_append(tmp_path: Path) -> None:
    log = _log(tmp_path)
    await log.append("c", "turn.started", {})
    received: list[int] = []

    async def follow() -> None:
        async for event in log.tail("c", 0, poll=30):
            received.append(event["seq"])
            if len(received) == 3:
                return

    task = asyncio.create_task(follow())
    for _ in range(200):
        if received:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # now idle, waiting on the notification
    assert received == [1]
    loop = asyncio.get_running_loop()
    started = loop.time()
    await log.sink("c").emit("message.delta", {})
    await log.sink("c").emit("turn.completed", {})
    await asyncio.wait_for(task, timeout=2)
    assert received == [1, 2, 3]
    assert loop.time() - started < 1  # woken by notification, not by the 30 s poll


async def test_tail_without_follow_stops_at_the_end(tmp_path: Path) -> None:
    log = _log(tmp_path)
    for _ in range(3):
        await log.append("c", "message.delta", {})
    assert [e["seq"] async for e in log.tail("c", 1, follow=False)] == [2, 3]
