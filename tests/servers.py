"""Real database servers for tests: a fresh PostgreSQL database per use. Skips outside CI when no server
answers (set COPILOT_TEST_POSTGRES_URL to point elsewhere); fails in CI, where the server must be up."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from tests.conftest import IN_CI

POSTGRES = os.environ.get("COPILOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def postgres_database() -> Iterator[str]:
    """The URL of a new, empty database on the server, dropped afterwards."""
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        admin.dispose()
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL at {POSTGRES} does not answer: {exc}")
        pytest.skip(f"no PostgreSQL server at {POSTGRES} (set COPILOT_TEST_POSTGRES_URL to run these tests)")
    name = f"copilot_test_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
