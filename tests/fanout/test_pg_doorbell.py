"""The Postgres LISTEN/NOTIFY doorbell on a real PostgreSQL: a ring on one worker's bell wakes the other's
waiters at once, a bell ignores its own echo, it listens again after Postgres drops every connection, and
`open_backplane` picks it for a Postgres deployment without Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from copilot.backplane import open_backplane
from copilot.pg_doorbell import PostgresDoorbell
from copilot.settings import Settings
from tests.databases import terminate_sessions

pytestmark = pytest.mark.postgres


@pytest.fixture
async def bells(postgres_url: str) -> AsyncIterator[tuple[PostgresDoorbell, PostgresDoorbell]]:
    """Two workers' bells on one database (their own connections), on a channel of this test alone."""
    channel = f"copilot_bell_test_{time.monotonic_ns()}"
    a = PostgresDoorbell(postgres_url, fallback_poll=0.2, channel=channel)
    b = PostgresDoorbell(postgres_url, fallback_poll=0.2, channel=channel)
    assert await a.start(wait=5) and await b.start(wait=5)
    yield a, b
    await a.aclose()
    await b.aclose()


async def rung(signal: asyncio.Event, within: float) -> float | None:
    """Seconds until `signal` was set, or None if it was not within `within`."""
    start = time.perf_counter()
    try:
        async with asyncio.timeout(within):
            await signal.wait()
    except TimeoutError:
        return None
    return time.perf_counter() - start


async def test_a_ring_on_one_worker_wakes_the_other(bells: tuple[PostgresDoorbell, PostgresDoorbell]) -> None:
    a, b = bells
    for _ in range(5):
        there, unrelated, everyone = (
            b.signal("events", "c1"),
            b.signal("events", "c2"),
            b.signal("turns", "t"),
        )
        a.ring("events", "c1")
        took = await rung(there, 2.0)
        assert took is not None and took < 0.5, took
        assert not unrelated.is_set()
        a.ring("turns", "*")  # "*" wakes every waiter of the topic
        assert await rung(everyone, 2.0) is not None
    assert b.poll_seconds > 1  # listening: the safety poll, not the fallback


async def test_a_bell_ignores_its_own_echo(bells: tuple[PostgresDoorbell, PostgresDoorbell]) -> None:
    a, b = bells
    woke_b = b.signal("events", "c1")
    a.ring("events", "c1")  # a's own waiters are woken here and now; its NOTIFY is still to be sent
    quiet = a.signal("events", "c1")  # so only the echo of that NOTIFY could set this one
    assert await rung(woke_b, 2.0) is not None
    await asyncio.sleep(0.3)
    assert not quiet.is_set()


async def test_the_bell_listens_again_after_postgres_drops_its_connections(
    bells: tuple[PostgresDoorbell, PostgresDoorbell], postgres_url: str
) -> None:
    a, b = bells
    assert terminate_sessions(postgres_url) >= 2  # both listeners (and any publisher connection)
    deadline = time.monotonic() + 10
    while b.listens < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert b.listens >= 2 and b.connected
    while a.listens < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    signal = b.signal("events", "after")
    a.ring("events", "after")  # the publisher reconnects on its next batch
    assert await rung(signal, 5.0) is not None


async def test_a_postgres_deployment_without_redis_gets_the_notify_bell(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=postgres_url)
    async with open_backplane(settings) as backplane:
        assert isinstance(backplane.doorbell, PostgresDoorbell) and backplane.doorbell.connected
    async with open_backplane(Settings(data_dir=tmp_path)) as local:  # SQLite: in-process rings
        assert not isinstance(local.doorbell, PostgresDoorbell)
