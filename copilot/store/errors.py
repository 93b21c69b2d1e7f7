"""Storage failures the operator must fix (read-only database, full disk, database unreachable), recognised
from the driver's error codes and turned into one typed error: `storage_unavailable` (HTTP 503)."""

from __future__ import annotations

import importlib
import sqlite3
import sys

from sqlalchemy.exc import DBAPIError, OperationalError

from copilot.errors import CopilotError, ErrorCode

_RETRY = " Requests fail until then; nothing was written."
_SQLITE = {  # primary result codes (https://sqlite.org/rescode.html)
    5: "The database is busy (another process holds its write lock); retry in a moment.",
    6: "The database is busy (a table is locked); retry in a moment.",
    8: "The SQLite database is read-only: make the database file, its -wal/-shm files and the directory "
    "(COPILOT_DATA_DIR) writable by the server, or remount the volume read-write.",
    10: "The disk under the SQLite database reported an I/O error: check the volume of COPILOT_DATA_DIR.",
    13: "The disk holding the SQLite database is full: free space on the volume of COPILOT_DATA_DIR.",
    14: "The SQLite database file cannot be opened: check that COPILOT_DATA_DIR exists and is writable.",
}
_POSTGRES_READ_ONLY = (
    "The database is read-only (a standby, or default_transaction_read_only is on): point "
    "COPILOT_DATABASE_URL at the primary, or make the database writable."
)
_POSTGRES_RESOURCES = "The database server is out of disk space or resources: free space or raise its limits."
_UNREACHABLE = "The database is unreachable: check that its server is running and COPILOT_DATABASE_URL."


def storage_error(exc: BaseException) -> CopilotError | None:
    """The typed error for a storage failure an operator must fix; None for any other exception."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    if isinstance(cause, sqlite3.Error):
        message = _SQLITE.get(getattr(cause, "sqlite_errorcode", 0) & 0xFF)
    else:
        message = _by_sqlstate(getattr(cause, "sqlstate", None), exc)
    if message is None:
        return None
    suffix = "" if "retry" in message else _RETRY
    return CopilotError(
        ErrorCode.STORAGE_UNAVAILABLE, message + suffix, details={"cause": _first_line(cause)}
    )


def _by_sqlstate(sqlstate: object, exc: BaseException) -> str | None:
    if sqlstate == "25006":
        return _POSTGRES_READ_ONLY
    if isinstance(sqlstate, str) and sqlstate.startswith("53"):
        return _POSTGRES_RESOURCES
    if isinstance(sqlstate, str) and (sqlstate.startswith("08") or sqlstate in ("57P01", "57P02", "57P03")):
        return _UNREACHABLE
    return _UNREACHABLE if sqlstate is None and _is_connection_failure(exc) else None


def _is_connection_failure(exc: BaseException) -> bool:
    """A driver-level OperationalError without SQLSTATE (connection refused, server closed the connection)."""
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc, OperationalError)
    psycopg = sys.modules.get("psycopg")  # loaded only when a Postgres database is in use
    pool = sys.modules.get("psycopg_pool")
    return (psycopg is not None and isinstance(exc, psycopg.OperationalError)) or (
        pool is not None and isinstance(exc, pool.PoolTimeout)
    )


def storage_exception_types() -> tuple[type[Exception], ...]:
    """The exception types to route through `storage_error` (the drivers' own, as the checkpointer raises them)."""
    types: list[type[Exception]] = [DBAPIError, sqlite3.Error]
    for name, attribute in (("psycopg", "Error"), ("psycopg_pool", "PoolTimeout")):
        try:
            types.append(getattr(importlib.import_module(name), attribute))
        except ImportError:  # the postgres extra is not installed
            continue
    return tuple(types)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
