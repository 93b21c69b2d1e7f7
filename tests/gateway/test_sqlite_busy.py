"""SQLite's write lock held elsewhere during execute: retried while it clears, a clear error when it does not;
never a lost update or a second execution."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from copilot.gateway.gateway import Gateway
from copilot.store.database import make_engine
from tests.gateway.retail import SAM, approved, audit_outcomes, doc, ledger_rows, make_gateway, seed_small

ARGS = {"order_id": "#W0000004", "reason": "no longer needed"}


def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA busy_timeout=100")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "busy.db"


@pytest.fixture
def engine(path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", _short_busy_timeout)  # after make_engine's pragmas (5 s)
    engine.dispose()  # connections opened so far used the long timeout
    seed_small(engine)
    yield engine
    engine.dispose()


@contextmanager
def write_lock(path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's view: a connection holding SQLite's write lock."""
    other = sqlite3.connect(path, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        other.rollback()
        other.close()


def test_a_lock_that_clears_is_waited_out(engine: Engine, path: Path) -> None:
    gateway: Gateway = make_gateway(engine)
    preview_id = approved(gateway, SAM, "cancel_pending_order", ARGS)
    with write_lock(path) as other:
        threading.Timer(0.3, other.rollback).start()  # longer than one busy timeout, shorter than the retries
        result = gateway.execute(SAM, preview_id)
    assert result.outcome == "executed", (result.code, result.message)
    assert doc(engine, "order", "#W0000004")["status"] == "cancelled" and ledger_rows(engine) == 1


def test_a_lock_that_stays_is_a_clear_error_and_changes_nothing(engine: Engine, path: Path) -> None:
    gateway = make_gateway(engine)
    preview_id = approved(gateway, SAM, "cancel_pending_order", ARGS)
    with write_lock(path):
        busy = gateway.execute(SAM, preview_id)
    assert (busy.outcome, busy.code) == ("error", "internal")
    assert busy.message == "The database was busy, so nothing was changed; retry shortly."
    assert doc(engine, "order", "#W0000004")["status"] == "pending" and ledger_rows(engine) == 0
    again = gateway.execute(SAM, preview_id)  # the approval still stands
    assert again.outcome == "executed" and ledger_rows(engine) == 1
    assert audit_outcomes(engine, "cancel_pending_order").count("execute") == 1
