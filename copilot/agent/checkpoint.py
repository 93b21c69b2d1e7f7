"""The checkpointer: LangGraph's async SQLite saver on the same database file as the store (Postgres
saver when the database URL is Postgres and the `postgres` extra is installed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from copilot.errors import CopilotError, ErrorCode
from copilot.settings import Settings

POOL_SIZE = 10
"""Postgres checkpointer connections per process (turns and state reads borrow one each)."""


@asynccontextmanager
async def open_checkpointer(settings: Settings) -> AsyncIterator[BaseCheckpointSaver[str]]:
    """Open (and set up) the checkpointer for the configured database; close it on exit."""
    path = settings.sqlite_path
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
            await saver.setup()
            # Same trade-off as the store (copilot.store.database): WAL + synchronous=NORMAL survives
            # process crashes; a power cut may lose the last commits. Saves an fsync per checkpoint.
            await saver.conn.execute("PRAGMA synchronous=NORMAL")
            await saver.conn.execute("PRAGMA busy_timeout=5000")
            yield saver
        return
    async with _postgres(settings.resolved_database_url) as saver:
        yield saver


@asynccontextmanager
async def _postgres(url: str) -> AsyncIterator[BaseCheckpointSaver[str]]:
    """AsyncPostgresSaver over a connection pool that checks each connection before lending it, so a
    restarted or failed-over server (all connections dropped) costs a reconnect instead of failed turns."""
    try:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg import AsyncConnection
        from psycopg.rows import DictRow, dict_row
        from psycopg_pool import AsyncConnectionPool
    except ImportError as exc:
        raise CopilotError(
            ErrorCode.CONFIGURATION,
            "A Postgres database needs the postgres extra: pip install 'support-copilot[postgres]'.",
        ) from exc
    conninfo = url.replace("postgresql+psycopg://", "postgresql://").replace(
        "postgresql+asyncpg://", "postgresql://"
    )
    pool = AsyncConnectionPool(
        conninfo,
        connection_class=AsyncConnection[DictRow],
        min_size=1,
        max_size=POOL_SIZE,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        check=AsyncConnectionPool.check_connection,
        open=False,
    )
    async with pool:
        saver = AsyncPostgresSaver(pool)
        await saver.setup()
        yield saver
