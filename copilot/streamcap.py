"""Caps on concurrent holders per key (open SSE streams per principal): in memory or in Redis.

A holder takes a lease (`acquire`), renews it while it lives (`renew`, every third of the lease) and gives it
back (`release`). A worker that dies without releasing loses its leases when they expire, so a crash never
locks a user out for longer than `lease` seconds. The Redis cap keeps one sorted set per key (member = holder,
score = expiry in Redis server time) and decides in one Lua script, atomically across workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class Cap(Protocol):
    limit: int
    lease: float

    async def acquire(self, key: str, holder: str) -> bool:
        """Take a lease for `holder` unless `limit` live leases of `key` exist."""
        ...

    async def renew(self, key: str, holder: str) -> None: ...

    async def release(self, key: str, holder: str) -> None: ...


class MemoryCap:
    def __init__(self, limit: int, lease: float) -> None:
        self.limit, self.lease = limit, lease
        self._leases: dict[str, dict[str, float]] = {}

    def _live(self, key: str) -> dict[str, float]:
        now = time.monotonic()
        leases = {h: t for h, t in self._leases.get(key, {}).items() if t > now}
        self._leases[key] = leases
        return leases

    async def acquire(self, key: str, holder: str) -> bool:
        leases = self._live(key)
        if len(leases) >= self.limit:
            return False
        leases[holder] = time.monotonic() + self.lease
        return True

    async def renew(self, key: str, holder: str) -> None:
        leases = self._live(key)
        if holder in leases:
            leases[holder] = time.monotonic() + self.lease

    async def release(self, key: str, holder: str) -> None:
        leases = self._live(key)
        leases.pop(holder, None)
        if not leases:
            self._leases.pop(key, None)


ACQUIRE = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now_ms + tonumber(ARGV[1]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
"""
RENEW = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if redis.call('ZADD', KEYS[1], 'XX', 'CH', now_ms + tonumber(ARGV[1]), ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
end
return 1
"""


class RedisCap:
    """The same cap shared by every worker. While Redis is unreachable it counts in this worker only."""

    def __init__(self, client: Redis, name: str, limit: int, lease: float, *, prefix: str) -> None:
        self.limit, self.lease = limit, lease
        self._client, self._prefix = client, f"{prefix}:{name}"
        self._acquire, self._renew = client.register_script(ACQUIRE), client.register_script(RENEW)
        self._fallback = MemoryCap(limit, lease)

    async def acquire(self, key: str, holder: str) -> bool:
        try:
            args: list[str | int] = [int(self.lease * 1000), self.limit, holder]
            return bool(await self._acquire(keys=[f"{self._prefix}:{key}"], args=args))
        except (RedisError, OSError) as exc:
            log.warning("stream cap: Redis unreachable (%s); counting in this worker only", exc)
            return await self._fallback.acquire(key, holder)

    async def renew(self, key: str, holder: str) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self._renew(keys=[f"{self._prefix}:{key}"], args=[int(self.lease * 1000), holder])
        await self._fallback.renew(key, holder)

    async def release(self, key: str, holder: str) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self._client.zrem(f"{self._prefix}:{key}", holder)
        await self._fallback.release(key, holder)


@asynccontextmanager
async def held(cap: Cap, key: str, holder: str) -> AsyncIterator[None]:
    """Keep an acquired lease renewed for the block's lifetime, then release it."""

    async def keep() -> None:
        while True:
            await asyncio.sleep(cap.lease / 3)
            await cap.renew(key, holder)

    renewer = asyncio.create_task(keep())
    try:
        yield
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer
        await cap.release(key, holder)
