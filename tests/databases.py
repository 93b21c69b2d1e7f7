"""Real databases for tests parametrised over SQLite and PostgreSQL. Postgres needs a server: set
COPILOT_TEST_POSTGRES_URL (default: the local trust-auth server); its tests skip outside CI when none answers,
and fail in CI."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from copilot.store.database import make_engine
from copilot.store.schema import metadata
from tests.conftest import IN_CI

SERVER = os.environ.get("COPILOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
"""For `@pytest.fixture(params=BACKENDS)`."""


@contextmanager
def postgres_database() -> Iterator[str]:
    """The URL of a fresh database on the server, dropped afterwards (skips or fails without a server)."""
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        admin.dispose()
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL at {SERVER} does not answer: {exc}")
        pytest.skip(f"no PostgreSQL server at {SERVER} (set COPILOT_TEST_POSTGRES_URL to run these tests)")
    name = f"copilot_test_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield SERVER.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
