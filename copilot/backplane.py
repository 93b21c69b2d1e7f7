"""What the workers of one deployment share besides the database: the doorbell and the rate limits.

`open_backplane(settings)`: with COPILOT_REDIS_URL a `RedisDoorbell` and Redis-backed limiters (shared by every
worker); else, on a Postgres database, a `PostgresDoorbell` (LISTEN/NOTIFY) and in-memory limiters; else a
`LocalDoorbell` (other workers seen by a COPILOT_EVENT_POLL_SECONDS poll) and in-memory limiters. Opened by `copilot.runtime.open_runtime`, never at import time; closed on shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from redis.asyncio import Redis

from copilot.doorbell import Doorbell, LocalDoorbell
from copilot.pg_doorbell import PostgresDoorbell
from copilot.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from copilot.redis_doorbell import RedisDoorbell
from copilot.settings import Settings
from copilot.streamcap import Cap, MemoryCap, RedisCap


@dataclass
class Backplane:
    doorbell: Doorbell = field(default_factory=LocalDoorbell)
    redis: Redis | None = None
    """The client of the shared limiters (None: limits are per worker)."""
    limit_prefix: str = "copilot:rl"
    _limiters: dict[str, RateLimiter] = field(default_factory=dict)
    _caps: dict[str, Cap] = field(default_factory=dict)

    def limiter(self, name: str, limit: int, window: float) -> RateLimiter:
        """The limiter called `name` (one per backplane): shared through Redis when there is one."""
        found = self._limiters.get(name)
        if found is None:
            found = self._limiters[name] = (
                RedisRateLimiter(self.redis, name, limit, window, prefix=self.limit_prefix)
                if self.redis is not None
                else MemoryRateLimiter(limit, window)
            )
        return found

    def cap(self, name: str, limit: int, lease: float) -> Cap:
        """The concurrency cap called `name` (e.g. open streams per principal), shared through Redis too."""
        found = self._caps.get(name)
        if found is None:
            found = self._caps[name] = (
                RedisCap(self.redis, name, limit, lease, prefix=self.limit_prefix)
                if self.redis is not None
                else MemoryCap(limit, lease)
            )
        return found


def local_backplane(settings: Settings) -> Backplane:
    return Backplane(LocalDoorbell(settings.event_poll_seconds))


@asynccontextmanager
async def open_backplane(settings: Settings) -> AsyncIterator[Backplane]:
    """The backplane for Settings; Redis connections (if any) live until the block exits."""
    if not settings.redis_url:
        url = settings.resolved_database_url
        if not url.startswith("postgresql"):
            yield local_backplane(settings)
            return
        notify = PostgresDoorbell(url, fallback_poll=settings.event_poll_seconds)
        await notify.start()
        try:
            yield Backplane(notify)
        finally:
            await notify.aclose()
        return
    bell = RedisDoorbell(settings.redis_url, fallback_poll=settings.event_poll_seconds)
    client = Redis.from_url(settings.redis_url, socket_connect_timeout=1.0)
    await bell.start()
    try:
        yield Backplane(bell, client)
    finally:
        await bell.aclose()
        await client.aclose()
