"""Engine factory. SQLite runs in WAL mode so the SSE readers never block the writer; Postgres connections
are pinged before use, so a restarted server (or dropped connections) costs one reconnect, not a failed request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

from copilot.store.migrate import migrate


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create the engine and bring the schema to the newest revision (copilot.store.migrate)."""
    engine = open_engine(url)
    migrate(engine)
    return engine


def open_engine(url: str) -> Engine:
    """The engine alone, schema untouched (`copilot db current` reads the revision through it)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine
