"""Servers for the fan-out tests: a real Redis and a real PostgreSQL (tests.databases: outside CI a missing
server skips with the reason; in CI it fails)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import pytest
from redis import Redis

from copilot.redis_doorbell import RedisDoorbell
from tests.databases import postgres_database, redis_server


@pytest.fixture(scope="session")
def redis_url() -> str:
    return redis_server()


@pytest.fixture
def prefix() -> str:
    """A channel/key prefix of this test alone (other tests and people share the server)."""
    return f"copilot-test:{secrets.token_hex(4)}"


@pytest.fixture
def redis_admin(redis_url: str) -> Iterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
async def bells(redis_url: str, prefix: str) -> AsyncIterator[tuple[RedisDoorbell, RedisDoorbell]]:
    """Two Redis doorbells as two workers would hold them (separate connections, one prefix)."""
    a = RedisDoorbell(redis_url, prefix=prefix, fallback_poll=0.2)
    b = RedisDoorbell(redis_url, prefix=prefix, fallback_poll=0.2)
    assert await a.start() and await b.start()
    yield a, b
    await a.aclose()
    await b.aclose()


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh database on the test PostgreSQL server for this module, dropped afterwards."""
    with postgres_database() as url:
        yield url
