"""Caps on open streams per principal: leases in memory per worker, or one set of leases in Redis shared by
every worker; a dead holder's lease expires; over real HTTP two workers on one Redis share a principal's cap."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from copilot.api.app import create_app
from copilot.settings import Settings
from copilot.streamcap import Cap, MemoryCap, RedisCap, held
from tests.api.support import SECRET, serve_in_thread, token


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def _caps(cap: Cap) -> None:
    assert [await cap.acquire("u", h) for h in ("a", "b", "c")] == [True, True, False]
    assert await cap.acquire("other", "x")  # per key
    await cap.release("u", "a")
    assert await cap.acquire("u", "c")
    async with held(cap, "u", "c"):  # renewed past its lease while held; "b" was not renewed and expired
        await asyncio.sleep(cap.lease * 1.5)
        assert [await cap.acquire("u", h) for h in ("d", "e")] == [True, False]
    assert await cap.acquire("u", "e")  # "c" was released on exit
    await asyncio.sleep(cap.lease * 1.2)  # "d" and "e" were never released: their leases expired
    assert [await cap.acquire("u", h) for h in ("f", "g", "h")] == [True, True, False]


async def test_memory_leases_cap_renew_and_expire() -> None:
    await _caps(MemoryCap(2, 0.3))


async def test_redis_leases_cap_renew_and_expire(redis: Redis, prefix: str) -> None:
    await _caps(RedisCap(redis, "s", 2, 0.3, prefix=prefix))


async def test_redis_cap_is_atomic_across_workers(redis: Redis, prefix: str) -> None:
    caps = [RedisCap(redis, "c", 5, 10, prefix=prefix) for _ in range(3)]
    results = await asyncio.gather(*(caps[n % 3].acquire("u", f"h{n}") for n in range(20)))
    assert results.count(True) == 5


async def test_an_unreachable_redis_caps_per_worker(prefix: str) -> None:
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    cap = RedisCap(down, "d", 1, 60, prefix=prefix)
    assert [await cap.acquire("u", "a"), await cap.acquire("u", "b")] == [True, False]
    await down.aclose()


async def test_two_workers_share_a_principals_caps_through_redis(tmp_path: Path, redis_url: str) -> None:
    settings = Settings(data_dir=tmp_path, secret=SECRET, redis_url=redis_url, max_streams_per_user=2,
                        messages_per_minute=4)  # fmt: skip
    headers = token("customer", f"roamer-{secrets.token_hex(4)}")  # keys of this run alone on a shared Redis
    with serve_in_thread(create_app(settings)) as one, serve_in_thread(create_app(settings)) as two:
        async with httpx.AsyncClient(timeout=10) as http:
            cid = (await http.post(f"{one}/v1/conversations", headers=headers)).json()["id"]
            url = f"/v1/conversations/{cid}/events"
            async with (
                http.stream("GET", one + url, headers=headers) as a,
                http.stream("GET", two + url, headers=headers) as b,
            ):
                assert (a.status_code, b.status_code) == (200, 200)
                assert (await http.get(one + url, headers=headers)).status_code == 429
                assert (await http.get(two + url, headers=headers)).status_code == 429
            sent = [
                (await http.post(f"{(one, two)[n % 2]}/v1/conversations/{cid}/messages", json={"text": f"m{n}"}, headers=headers)).status_code
                for n in range(6)
            ]  # fmt: skip
            assert sent == [202] * 4 + [429] * 2  # one window across both workers
