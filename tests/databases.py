"""Real servers for tests: databases parametrised over SQLite and PostgreSQL, and Redis. Postgres needs a
server: set COPILOT_TEST_POSTGRES_URL (default: the local trust-auth server); Redis: COPILOT_TEST_REDIS_URL
(default: the local one). Their tests skip outside CI when none answers, and fail in CI."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from copilot.store.database import make_engine
from copilot.store.schema import metadata
from tests.conftest import IN_CI

SERVER = os.environ.get("COPILOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("COPILOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
"""For `@pytest.fixture(params=BACKENDS)`."""


def _unavailable(what: str, url: str, exc: Exception, env: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but {what} at {url} does not answer: {exc}")
    pytest.skip(f"no {what} at {url} (set {env} to run these tests)")


def admin_engine() -> Engine:
    """An AUTOCOMMIT engine on the server's maintenance database (skips or fails when there is none)."""
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        admin.dispose()
        _unavailable("PostgreSQL server", SERVER, exc, "COPILOT_TEST_POSTGRES_URL")
    return admin


@contextmanager
def postgres_database() -> Iterator[str]:
    """The URL of a fresh database on the server, dropped afterwards, sessions and all (skips or fails
    without a server)."""
    admin = admin_engine()
    name = f"copilot_test_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield SERVER.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def terminate_sessions(url: str) -> int:
    """Drop every connection to the database of `url` (what a failover or a restart does); returns how many."""
    admin = admin_engine()
    try:
        with admin.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": url.rsplit("/", 1)[1]},
            ).all()
    finally:
        admin.dispose()
    return len(rows)


def redis_server() -> str:
    """The test Redis URL (skips or fails when it does not answer)."""
    client = Redis.from_url(REDIS, socket_connect_timeout=1.0)
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        _unavailable("Redis server", REDIS, exc, "COPILOT_TEST_REDIS_URL")
    finally:
        client.close()
    return REDIS


@contextmanager
def fresh_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty schema on `backend` ("sqlite": a file under tmp_path, "postgres": a new database)."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'copilot.db'}")
        try:
            yield engine
        finally:
            engine.dispose()
        return
    with postgres_database() as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def reset(engine: Engine) -> None:
    """Empty every table (a module-scoped Postgres database reused by several tests)."""
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
