"""Scratch databases on the test PostgreSQL server (COPILOT_TEST_POSTGRES_URL, default the local trust-auth
server). Skips outside CI when no server answers; fails in CI."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from tests.conftest import IN_CI

SERVER = os.environ.get("COPILOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def admin_engine() -> Engine:
    """An AUTOCOMMIT engine on the server's maintenance database (skips or fails when there is none)."""
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        admin.dispose()
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL at {SERVER} does not answer: {exc}")
        pytest.skip(f"no PostgreSQL server at {SERVER} (set COPILOT_TEST_POSTGRES_URL to run these tests)")
    return admin


@contextmanager
def scratch_database(admin: Engine) -> Iterator[str]:
    """A new, empty database; yields its SQLAlchemy URL and drops it afterwards (closing its sessions)."""
    name = f"copilot_test_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield SERVER.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def terminate_sessions(admin: Engine, url: str) -> int:
    """Drop every connection to the database of `url` (what a failover or a restart does); returns how many."""
    name = url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        ).all()
    return len(rows)
