"""Cross-worker first-event latency: worker B tails N idle conversations; worker A (its own engine and doorbell,
same SQLite file) appends one event to each at random moments; a sample is the time from A's append call to
B's tail yielding that event. With Redis (RedisDoorbell on both) and without (LocalDoorbell: B only polls)."""

from __future__ import annotations

import asyncio
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

from bench.stats import Stats, summarize
from copilot.doorbell import DEFAULT_POLL_SECONDS, Doorbell, EventNotifier, LocalDoorbell
from copilot.eventlog import EventLog
from copilot.redis_doorbell import RedisDoorbell, where
from copilot.store.database import make_engine

REDIS_URL = os.environ.get("COPILOT_REDIS_URL") or "redis://127.0.0.1:6379/0"
GOAL_P95_MS = 50.0


@dataclass(frozen=True, slots=True)
class FanoutResult:
    redis: Stats | None
    """None: no Redis answered at `redis_url`."""
    local: Stats
    redis_url: str
    poll_seconds: float


async def _tail_first(log: EventLog, conversation_id: str, arrived: dict[str, float]) -> None:
    async for _event in log.tail(conversation_id):
        arrived[conversation_id] = time.perf_counter()
        return


async def _measure(url: str, bells: tuple[Doorbell, Doorbell], n: int, window: float, name: str) -> Stats:
    engines = [make_engine(url) for _ in bells]
    writer, reader = (EventLog(e, EventNotifier(b)) for e, b in zip(engines, bells, strict=True))
    ids = [f"{name}_{i}_{random.getrandbits(32):x}" for i in range(n)]
    arrived: dict[str, float] = {}
    tails = [asyncio.create_task(_tail_first(reader, cid, arrived)) for cid in ids]
    await asyncio.sleep(0.5)  # every tail has read its empty log and sleeps
    sent: dict[str, float] = {}
    started = time.perf_counter()
    for at, cid in sorted((random.uniform(0, window), cid) for cid in ids):
        await asyncio.sleep(max(0.0, started + at - time.perf_counter()))
        sent[cid] = time.perf_counter()
        await writer.append(cid, "turn.started", {"bench": True})
    await asyncio.wait(tails, timeout=window + 5 * max(b.poll_seconds for b in bells))
    for engine in engines:
        engine.dispose()
    missing = [cid for cid in ids if cid not in arrived]
    if missing:
        raise RuntimeError(f"{name}: {len(missing)} events never reached the other worker")
    return summarize(name, [(arrived[c] - sent[c]) * 1000 for c in ids])


async def _with_redis(url: str, n: int, window: float) -> Stats | None:
    prefix = f"copilot-bench:{random.getrandbits(32):x}"
    bells = (RedisDoorbell(REDIS_URL, prefix=prefix), RedisDoorbell(REDIS_URL, prefix=prefix))
    try:
        if not all([await bell.start() for bell in bells]):
            return None
        return await _measure(url, bells, n, window, "redis doorbell")
    finally:
        for bell in bells:
            await bell.aclose()


async def run_fanout_bench(workdir: Path, *, appends: int, window: float) -> FanoutResult:
    url = f"sqlite:///{workdir / 'fanout.db'}"
    redis = await _with_redis(url, appends, window)
    local = (LocalDoorbell(), LocalDoorbell())
    polled = await _measure(url, local, appends, window, f"no redis (poll {DEFAULT_POLL_SECONDS:g} s)")
    return FanoutResult(redis, polled, where(REDIS_URL), DEFAULT_POLL_SECONDS)
