"""Settings → backplane: Redis doorbell + shared limits with COPILOT_REDIS_URL (closed on exit), local otherwise."""

from __future__ import annotations

from pathlib import Path

from redis import Redis

from copilot.backplane import open_backplane
from copilot.doorbell import LocalDoorbell
from copilot.ratelimit import MemoryRateLimiter, RedisRateLimiter
from copilot.redis_doorbell import RedisDoorbell
from copilot.settings import Settings


def _subscribers(admin: Redis, bell: RedisDoorbell) -> int:
    return sum(1 for c in admin.client_list() if c.get("name") == bell.subscriber_name)


async def test_with_redis_url(tmp_path: Path, redis_url: str, redis_admin: Redis) -> None:
    settings = Settings(data_dir=tmp_path, redis_url=redis_url, event_poll_seconds=0.5)
    async with open_backplane(settings) as backplane:
        bell = backplane.doorbell
        assert isinstance(bell, RedisDoorbell) and bell.connected and bell.poll_seconds == 5.0
        assert isinstance(backplane.limiter("guest", 3, 60), RedisRateLimiter)
        assert backplane.limiter("guest", 3, 60) is backplane.limiter("guest", 3, 60)
        assert _subscribers(redis_admin, bell) == 1
    assert not bell.connected and _subscribers(redis_admin, bell) == 0


async def test_without_redis_url(tmp_path: Path) -> None:
    async with open_backplane(Settings(data_dir=tmp_path, event_poll_seconds=0.5)) as backplane:
        assert isinstance(backplane.doorbell, LocalDoorbell) and backplane.doorbell.poll_seconds == 0.5
        assert isinstance(backplane.limiter("guest", 3, 60), MemoryRateLimiter)
