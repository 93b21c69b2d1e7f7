"""A fresh PostgreSQL database for a test module (dropped afterwards). Needs a server: set
COPILOT_TEST_POSTGRES_URL (default: the local trust-auth server); skips outside CI when none answers,
never skips in CI (the pattern of tests/store/test_postgres.py)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from tests.conftest import IN_CI

SERVER = os.environ.get("COPILOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """Yield the URL of a new, empty database on the server."""
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
