"""Servers for the fan-out tests: a real Redis (COPILOT_TEST_REDIS_URL, default 127.0.0.1:6379) and a real
PostgreSQL (COPILOT_TEST_POSTGRES_URL). Outside CI a missing server skips with the reason; in CI it fails."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator

import pytest
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from copilot.redis_doorbell import RedisDoorbell
from tests.conftest import IN_CI

REDIS = os.environ.get("COPILOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES = os.environ.get("COPILOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _unavailable(what: str, url: str, exc: Exception, env: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but {what} at {url} does not answer: {exc}")
    pytest.skip(f"no {what} at {url} (set {env} to run these tests)")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis; skip (outside CI) or fail (in CI) when it does not answer."""
    client = Redis.from_url(REDIS, socket_connect_timeout=1.0)
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        _unavailable("Redis server", REDIS, exc, "COPILOT_TEST_REDIS_URL")
    finally:
        client.close()
    return REDIS


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
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        admin.dispose()
        _unavailable("PostgreSQL server", POSTGRES, exc, "COPILOT_TEST_POSTGRES_URL")
    name = f"copilot_fanout_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
