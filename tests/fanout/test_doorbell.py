"""Both doorbells: a ring wakes the waiters of (topic, key) and (topic, "*"), from any thread; over Redis it
crosses processes in milliseconds, ignores its own echo, and survives its subscriber connection being killed."""

from __future__ import annotations

import asyncio
import time

from redis import Redis

from copilot.doorbell import LocalDoorbell, until, wait
from copilot.redis_doorbell import RedisDoorbell

PROMPT = 0.05
"""The goal for a ring to reach another worker (the no-Redis poll is 1 s, the fallback here 0.2 s)."""


async def test_local_ring_wakes_only_its_key_and_the_wildcard() -> None:
    bell = LocalDoorbell(poll_seconds=0.05)
    mine, other, anyone = bell.signal("events", "c1"), bell.signal("events", "c2"), bell.signal("events", "*")
    bell.ring("events", "c1")
    assert mine.is_set() and anyone.is_set() and not other.is_set()
    assert bell.signal("events", "c1") is not mine  # fired signals are replaced: take it again before reading
    assert not await wait(bell, bell.signal("turns", "c1"))  # nothing rang: the poll interval passed


async def test_local_wildcard_ring_wakes_the_whole_topic() -> None:
    bell = LocalDoorbell()
    tenant, policy_any, event = (
        bell.signal("policy", "demo"),
        bell.signal("policy", "*"),
        bell.signal("events", "c"),
    )
    bell.ring("policy", "*")
    assert tenant.is_set() and policy_any.is_set() and not event.is_set()


async def test_local_ring_from_another_thread() -> None:
    bell = LocalDoorbell(poll_seconds=5)
    signal = bell.signal("turns", "*")
    await asyncio.to_thread(bell.ring, "turns", "conv_1")
    assert await wait(bell, signal, timeout=1)


async def test_until_probes_on_every_ring_and_returns_the_first_find() -> None:
    bell = LocalDoorbell(poll_seconds=5)
    queue: list[str] = []
    probes = 0

    async def claim() -> str | None:
        nonlocal probes
        probes += 1
        return queue.pop() if queue else None

    worker = asyncio.create_task(until(bell, "turns", "*", claim))
    await asyncio.sleep(0.01)
    bell.ring("turns", "conv_1")  # rung, but nothing queued yet: probe again, keep waiting
    await asyncio.sleep(0.01)
    queue.append("turn_1")
    bell.ring("turns", "conv_1")
    assert await asyncio.wait_for(worker, 1) == "turn_1" and probes == 3


async def test_a_ring_crosses_workers_within_milliseconds(bells: tuple[RedisDoorbell, RedisDoorbell]) -> None:
    a, b = bells
    assert b.poll_seconds == 5.0  # subscribed: the poll is only a safety net
    latencies = []
    for n in range(20):
        signal = b.signal("events", f"conv_{n}")
        started = time.perf_counter()
        a.ring("events", f"conv_{n}")
        assert await wait(b, signal, timeout=1), f"ring {n} did not reach the other worker"
        latencies.append(time.perf_counter() - started)
    assert sorted(latencies)[-2] < PROMPT, latencies


async def test_topic_wildcards_cross_workers(bells: tuple[RedisDoorbell, RedisDoorbell]) -> None:
    a, b = bells
    any_turn, tenant = b.signal("turns", "*"), b.signal("policy", "demo")
    a.ring("turns", "conv_9")
    a.ring("policy", "*")
    assert await wait(b, any_turn, timeout=1) and await wait(b, tenant, timeout=1)


async def test_its_own_echo_is_ignored(bells: tuple[RedisDoorbell, RedisDoorbell]) -> None:
    a, b = bells
    far = b.signal("events", "conv_e")
    a.ring("events", "conv_e")  # wakes a's waiters at once, locally
    again = a.signal("events", "conv_e")
    assert await wait(b, far, timeout=1)  # by now the echo has reached a as well
    await asyncio.sleep(0.05)
    assert not again.is_set()


async def test_ring_from_a_worker_thread(bells: tuple[RedisDoorbell, RedisDoorbell]) -> None:
    a, b = bells
    signal = b.signal("policy", "demo")
    await asyncio.to_thread(a.ring, "policy", "demo")  # e.g. a policy save in FastAPI's thread pool
    assert await wait(b, signal, timeout=1)


def _kill(admin: Redis, name: str) -> None:
    [victim] = [c for c in admin.client_list() if c.get("name") == name]
    admin.client_kill_filter(_id=victim["id"])


def _kill_subscriber(admin: Redis, bell: RedisDoorbell) -> None:
    _kill(admin, bell.subscriber_name)


async def test_a_killed_publisher_connection_is_replaced(
    bells: tuple[RedisDoorbell, RedisDoorbell], redis_admin: Redis
) -> None:
    a, b = bells
    first = b.signal("turns", "*")
    a.ring("turns", "conv_p")  # opens the publisher's connection
    assert await wait(b, first, timeout=1)
    _kill(redis_admin, f"{a.subscriber_name}-pub")
    signal = b.signal("turns", "*")
    a.ring("turns", "conv_p")
    assert await wait(b, signal, timeout=2)


async def test_a_killed_subscriber_wakes_waiters_falls_back_to_polling_and_reconnects(
    bells: tuple[RedisDoorbell, RedisDoorbell], redis_admin: Redis
) -> None:
    a, b = bells
    waiting = b.signal("events", "conv_k")
    _kill_subscriber(redis_admin, b)
    assert await wait(b, waiting, timeout=1)  # woken by the drop: re-read, then poll until resubscribed
    assert await b.wait_connected(3) and b.subscriptions == 2
    signal = b.signal("events", "conv_k")
    a.ring("events", "conv_k")
    assert await wait(b, signal, timeout=1)


async def test_without_redis_the_bell_rings_locally_and_polls(prefix: str) -> None:
    bell = RedisDoorbell("redis://127.0.0.1:1/0", prefix=prefix, fallback_poll=0.1)
    try:
        assert not await bell.start(wait=0.2)
        assert bell.poll_seconds == 0.1
        signal = bell.signal("events", "c")
        bell.ring("events", "c")  # never raises; the publish is retried in the background
        assert signal.is_set()
    finally:
        await bell.aclose()


async def test_a_waiting_loop_stops_when_cancelled_as_its_bell_rings() -> None:
    """A cancel that arrives as the signal fires must still stop the loop (Python 3.11's wait_for loses it)."""
    bell = LocalDoorbell(poll_seconds=5)

    async def follow() -> None:
        while True:
            await wait(bell, bell.signal("policy", "demo"))

    for _ in range(3):
        task = asyncio.create_task(follow())
        await asyncio.sleep(0.01)
        bell.ring("policy", "demo")
        await asyncio.sleep(0)  # the ring is delivered; the waiter's wake-up is now pending
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=2)
        assert done, "the cancelled loop kept running"
