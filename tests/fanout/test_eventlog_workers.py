"""Two workers (two engines, two Redis doorbells) on one database — a SQLite file and PostgreSQL: a tail on B
sees A's appends within milliseconds (long before any poll would have fired: the bell did it), replays from
Last-Event-ID without duplicates when woken spuriously, and still gets appends after its subscriber is killed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool

from copilot.doorbell import EventNotifier
from copilot.eventlog import EventLog
from copilot.events import StoredEvent
from copilot.redis_doorbell import RedisDoorbell
from copilot.store.database import make_engine

NO_BELL_POLL = 30.0
"""The safety poll while subscribed, made long here: an event that arrives in time was brought by the bell."""
PROMPT = 0.25


@dataclass
class Worker:
    engine: Engine
    bell: RedisDoorbell
    log: EventLog


async def _worker(url: str, redis_url: str, prefix: str) -> Worker:
    engine = make_engine(url)
    bell = RedisDoorbell(redis_url, prefix=prefix, fallback_poll=0.2, connected_poll=NO_BELL_POLL)
    assert await bell.start()
    return Worker(engine, bell, EventLog(engine, EventNotifier(bell)))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def workers(database_url: str, redis_url: str, prefix: str) -> AsyncIterator[tuple[Worker, Worker]]:
    a = await _worker(database_url, redis_url, prefix)
    b = await _worker(database_url, redis_url, prefix)
    yield a, b
    for w in (a, b):
        await w.bell.aclose()
        await _until_checked_in(w.engine)
        w.engine.dispose()


async def _until_checked_in(engine: Engine) -> None:
    """A cancelled tail's read may still hold a connection in its thread; let it return it before dispose."""
    for _ in range(200):
        if not isinstance(engine.pool, QueuePool) or engine.pool.checkedout() == 0:
            return
        await asyncio.sleep(0.01)


class Reader:
    """A tail on one worker, recording when each event arrived."""

    def __init__(self, log: EventLog, conversation_id: str, after: int = 0) -> None:
        self.seen: list[tuple[int, float]] = []
        self.arrived = asyncio.Event()
        self._task = asyncio.create_task(self._run(log, conversation_id, after))

    async def _run(self, log: EventLog, conversation_id: str, after: int) -> None:
        async for event in log.tail(conversation_id, after):
            self._record(event)

    def _record(self, event: StoredEvent) -> None:
        self.seen.append((event["seq"], time.perf_counter()))
        self.arrived.set()

    async def next(self, timeout: float) -> float:
        await asyncio.wait_for(self.arrived.wait(), timeout)
        self.arrived.clear()
        return self.seen[-1][1]

    async def stop(self) -> None:
        self._task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self._task


async def test_a_tail_on_b_sees_appends_on_a_within_milliseconds(workers: tuple[Worker, Worker]) -> None:
    a, b = workers
    await a.log.append("conv_warm", "turn.started", {})  # connections opened: time the bell, not a connect
    await b.log.read_after("conv_warm", 0)
    reader = Reader(b.log, "conv_live")
    await asyncio.sleep(0.1)  # B has read the empty log and sleeps on its signal
    latencies = []
    for n in range(20):
        sent = time.perf_counter()
        await a.log.append("conv_live", "message.delta", {"n": n})
        latencies.append(await reader.next(timeout=PROMPT * 4) - sent)
        await asyncio.sleep(0.01)
    await reader.stop()
    assert [seq for seq, _ in reader.seen] == list(range(1, 21))
    assert max(latencies) < PROMPT, latencies


async def test_replay_then_live_without_duplicates_despite_spurious_rings(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    for n in range(3):
        await a.log.append("conv_r", "message.delta", {"n": n})
    reader = Reader(b.log, "conv_r", after=1)  # Last-Event-ID: 1
    for n in range(3, 9):
        a.bell.ring("events", "conv_r")  # a spurious ring (nothing new)
        await a.log.append("conv_r", "message.delta", {"n": n})
        b.bell.ring("events", "*")  # and a late, broad one on the reader's own worker
    await asyncio.sleep(0.3)
    await reader.stop()
    assert [seq for seq, _ in reader.seen] == list(range(2, 10))


async def test_appends_still_arrive_after_the_subscriber_is_killed(
    workers: tuple[Worker, Worker], redis_admin: Redis
) -> None:
    a, b = workers
    reader = Reader(b.log, "conv_k")
    await asyncio.sleep(0.1)
    [victim] = [c for c in redis_admin.client_list() if c.get("name") == b.bell.subscriber_name]
    redis_admin.client_kill_filter(_id=victim["id"])
    await a.log.append(
        "conv_k", "turn.started", {}
    )  # may be rung while B is away: its poll/reconnect catches it
    await reader.next(timeout=3)
    assert await b.bell.wait_connected(3) and b.bell.subscriptions == 2
    sent = time.perf_counter()
    await a.log.append("conv_k", "turn.completed", {})
    assert await reader.next(timeout=PROMPT * 4) - sent < PROMPT  # the bell works again after the reconnect
    await reader.stop()
    assert [seq for seq, _ in reader.seen] == [1, 2]


async def test_both_workers_append_to_one_conversation(workers: tuple[Worker, Worker]) -> None:
    a, b = workers
    reader = Reader(a.log, "conv_both")
    sends = [w.log.append("conv_both", "message.delta", {"n": n}) for n in range(10) for w in (a, b)]
    seqs = await asyncio.gather(*sends)
    assert sorted(seqs) == list(range(1, 21))
    for _ in range(50):
        if len(reader.seen) == 20:
            break
        await asyncio.sleep(0.02)
    await reader.stop()
    assert [seq for seq, _ in reader.seen] == list(range(1, 21))
