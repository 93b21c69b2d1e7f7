"""Guest rate limits: in memory per worker without Redis; one sliding window shared by every worker with it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from copilot.api.app import create_app
from copilot.api.sessions import RATE_LIMIT
from copilot.backplane import Backplane
from copilot.doorbell import LocalDoorbell
from copilot.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from copilot.runtime import assemble
from copilot.settings import Settings
from copilot.store.database import make_engine
from copilot.store.documents import DocumentStore
from tests.api.support import SECRET, OnceDecider, ScriptedRunner


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def _exhaust(limiter: RateLimiter, key: str, n: int) -> list[bool]:
    return [await limiter.allow(key) for _ in range(n)]


async def _slides(limiter: RateLimiter) -> None:
    assert await _exhaust(limiter, "1.2.3.4", 3) == [True, True, False]
    assert await limiter.allow("5.6.7.8")  # per key
    await asyncio.sleep(0.35)
    assert await _exhaust(limiter, "1.2.3.4", 3) == [True, True, False]


async def test_the_memory_window_slides() -> None:
    await _slides(MemoryRateLimiter(2, 0.3))


async def test_the_redis_window_slides_and_expires(redis: Redis, prefix: str) -> None:
    await _slides(RedisRateLimiter(redis, "t", 2, 0.3, prefix=prefix))
    assert 0 < await redis.pttl(f"{prefix}:t:1.2.3.4") <= 300  # idle clients leave nothing behind


async def test_redis_hits_are_atomic_under_concurrency(redis: Redis, prefix: str) -> None:
    limiters = [RedisRateLimiter(redis, "c", 10, 5, prefix=prefix) for _ in range(3)]
    results = await asyncio.gather(*(limiters[n % 3].allow("ip") for n in range(40)))
    assert results.count(True) == 10


async def test_an_unreachable_redis_falls_back_to_a_per_worker_window(prefix: str) -> None:
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    limiter = RedisRateLimiter(down, "d", 2, 60, prefix=prefix)
    assert await _exhaust(limiter, "ip", 3) == [True, True, False]
    await down.aclose()


def _app(tmp_path: Path, backplane: Backplane) -> httpx.AsyncClient:
    settings = Settings(data_dir=tmp_path, secret=SECRET)
    runtime = assemble(settings, runner=ScriptedRunner(), decider=OnceDecider(), backplane=backplane)
    transport = httpx.ASGITransport(app=create_app(settings, runtime=runtime))
    return httpx.AsyncClient(transport=transport, base_url="http://worker")


async def _guest_statuses(workers: list[httpx.AsyncClient], n: int) -> list[int]:
    return [(await workers[i % 2].post("/v1/sessions/guest")).status_code for i in range(n)]


def _seed_tenant(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{(tmp_path / 'copilot.db').resolve()}")
    with engine.begin() as conn:
        DocumentStore(conn, "demo").put("user", "u1", {"name": "someone"})
    engine.dispose()


async def test_two_workers_share_the_guest_limit_through_redis(
    tmp_path: Path, redis: Redis, prefix: str
) -> None:
    _seed_tenant(tmp_path)
    backplanes = [Backplane(LocalDoorbell(), redis, limit_prefix=prefix) for _ in range(2)]
    workers = [_app(tmp_path, b) for b in backplanes]
    statuses = await _guest_statuses(workers, RATE_LIMIT + 4)
    assert statuses == [201] * RATE_LIMIT + [429] * 4  # one window across both workers
    for worker in workers:
        await worker.aclose()


async def test_without_redis_each_worker_counts_alone(tmp_path: Path) -> None:
    _seed_tenant(tmp_path)
    workers = [_app(tmp_path, Backplane(LocalDoorbell())) for _ in range(2)]
    statuses = await _guest_statuses(workers, RATE_LIMIT + 4)
    assert statuses == [201] * (RATE_LIMIT + 4)  # 12 each: under the per-worker limit
    assert await _guest_statuses(workers, 2 * (RATE_LIMIT - 12) + 2) == [201] * 16 + [429, 429]
    for worker in workers:
        await worker.aclose()
