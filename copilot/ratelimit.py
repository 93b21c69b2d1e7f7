"""Sliding-window rate limits: in memory (one worker) or in Redis (shared by every worker).

Both allow at most `limit` hits per key within any `window` seconds. The Redis limiter keeps one sorted set per
key (member = hit, score = Redis server time, so workers' clocks do not matter) and decides in one Lua script:
drop hits older than the window, refuse if `limit` remain, else add the hit; the key expires after a window.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PRUNE_AT = 10_000


class RateLimiter(Protocol):
    limit: int
    window: float

    async def allow(self, key: str) -> bool:
        """Record a hit for `key` and say whether it is within the limit (a refused hit is not counted)."""
        ...


class MemoryRateLimiter:
    """A sliding window per key in this process (enough to stop a runaway page on one worker)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = {}

    async def allow(self, key: str) -> bool:
        now = time.monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] > self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        if len(self._hits) > PRUNE_AT:  # forget idle clients
            self._hits = {k: v for k, v in self._hits.items() if v and now - v[-1] <= self.window}
        return True


SLIDING_WINDOW = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local window_us = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_us - window_us)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now_us, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window_us / 1000))
return 1
"""


class RedisRateLimiter:
    """The same window in Redis, atomic across workers (one EVALSHA per hit). While Redis is unreachable it
    falls back to a per-worker window instead of refusing (or waving through) every caller."""

    def __init__(
        self, client: Redis, name: str, limit: int, window: float, *, prefix: str = "copilot:rl"
    ) -> None:
        self.limit, self.window = limit, window
        self._prefix = f"{prefix}:{name}"
        self._script = client.register_script(SLIDING_WINDOW)
        self._fallback = MemoryRateLimiter(limit, window)

    async def allow(self, key: str) -> bool:
        args: list[str | int] = [int(self.window * 1_000_000), self.limit, uuid.uuid4().hex]
        try:
            return bool(await self._script(keys=[f"{self._prefix}:{key}"], args=args))
        except (RedisError, OSError) as exc:
            log.warning("rate limit: Redis unreachable (%s); counting in this worker only", exc)
            return await self._fallback.allow(key)
