"""The checkpointer: LangGraph's async SQLite saver on the same database file as the store (Postgres
saver when the database URL is Postgres and the `postgres` extra is installed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from copilot.errors import CopilotError, ErrorCode
from copilot.settings import Settings


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
    try:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise CopilotError(
            ErrorCode.CONFIGURATION,
            "A Postgres database needs the postgres extra: pip install 'support-copilot[postgres]'.",
        ) from exc
    conn = url.replace("postgresql+psycopg://", "postgresql://").replace(
        "postgresql+asyncpg://", "postgresql://"
    )
    async with AsyncPostgresSaver.from_conn_string(conn) as saver:
        await saver.setup()
        yield saver
