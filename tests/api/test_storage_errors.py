"""A read-only or full SQLite database during a request is a 503 `storage_unavailable` that tells the operator
what to fix, not a bare 500. Real SQLite failures: a file opened read-only (`mode=ro`, which stops root too)
and a database that may not grow (`max_page_count`, SQLite's own "database or disk is full")."""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, event

from copilot.api.app import create_app
from copilot.runtime import assemble
from copilot.settings import Settings
from copilot.store.database import make_engine
from tests.api.support import SECRET, OnceDecider, ScriptedRunner, token


def _read_only(path: Path) -> Engine:
    return create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")


def _no_growth(conn: sqlite3.Connection) -> None:
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")


def _full(path: Path) -> Engine:
    """The database may not grow, and its conversations pages are filled up with tiny rows."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:  # a row per transaction: SQLite
        conn.execute("PRAGMA synchronous=OFF")  # rolls back the whole transaction that hits "full"
        _no_growth(conn)
        with contextlib.suppress(sqlite3.OperationalError):  # "database or disk is full": done
            for n in itertools.count():
                conn.execute("INSERT INTO conversations VALUES (?, '', '', '', '', '', '')", (f"{n:x}",))
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", lambda dbapi_connection, _record: _no_growth(dbapi_connection))
    return engine


async def _client(settings: Settings, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    runtime = assemble(settings, runner=ScriptedRunner(), decider=OnceDecider(), engine=engine)
    app = create_app(settings, runtime=runtime)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            yield http
    finally:
        await runtime.turns.aclose()
        engine.dispose()


@pytest.mark.parametrize(
    ("broken", "says"),
    [(_read_only, "read-only"), (_full, "full: free space on the volume of COPILOT_DATA_DIR")],
)
async def test_storage_failure_is_a_typed_503(tmp_path: Path, broken: Any, says: str) -> None:
    settings = Settings(data_dir=tmp_path, secret=SECRET)
    path = settings.sqlite_path
    assert path is not None
    make_engine(settings.resolved_database_url).dispose()  # a healthy database first
    async for http in _client(settings, broken(path)):
        response = await http.post("/v1/conversations", headers=token())
        assert response.status_code == 503, response.text
        error = response.json()["error"]
        assert error["code"] == "storage_unavailable"
        assert says in error["message"]
        assert "nothing was written" in error["message"]
        assert (await http.get("/healthz")).status_code == 200
