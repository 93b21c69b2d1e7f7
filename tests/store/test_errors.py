"""Storage failures are recognised from the drivers' own error classes and codes; other errors are not."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import psycopg
import psycopg.errors
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from copilot.serverprocess import free_port
from copilot.store.errors import storage_error, storage_exception_types


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (
            psycopg.errors.ReadOnlySqlTransaction("cannot execute INSERT in a read-only transaction"),
            "read-only",
        ),
        (psycopg.errors.DiskFull("could not extend file"), "out of disk space"),
        (psycopg.errors.AdminShutdown("terminating connection"), "unreachable"),
    ],
)
def test_postgres_sqlstates(error: Exception, says: str) -> None:
    typed = storage_error(OperationalError("INSERT ...", {}, error))
    assert typed is not None and typed.code == "storage_unavailable" and typed.status == 503
    assert says in typed.message


def test_a_refused_connection_is_unreachable() -> None:
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    with pytest.raises(OperationalError) as info:
        engine.connect()
    typed = storage_error(info.value)
    assert typed is not None and "COPILOT_DATABASE_URL" in typed.message
    raw = psycopg.OperationalError("connection failed")  # as the checkpointer's pool raises it
    assert storage_error(raw) is not None


def test_a_locked_sqlite_database_says_retry(tmp_path: Path) -> None:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
        with pytest.raises(IntegrityError) as info:
            conn.execute(text("INSERT INTO t VALUES (1)"))
    assert storage_error(info.value) is None  # a bug, not an operator's problem
    with closing(sqlite3.connect(tmp_path / "b.db", isolation_level=None)) as holder:
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        other = closing(sqlite3.connect(tmp_path / "b.db", timeout=0))
        with other as conn, pytest.raises(sqlite3.OperationalError) as busy:
            conn.execute("BEGIN IMMEDIATE")
        holder.execute("ROLLBACK")
    typed = storage_error(busy.value)
    assert typed is not None and "retry in a moment" in typed.message
    assert storage_error(ValueError("x")) is None


def test_driver_errors_are_routed() -> None:
    assert psycopg.Error in storage_exception_types()
