"""Schema migrations (Alembic, configured in code: no alembic.ini). `migrate(engine)` brings any database to head:

* fresh (none of our tables) → `metadata.create_all` + stamp head: one transaction, no revision replay;
* made by release 746edb1 (our tables, no `alembic_version`) → its missing tables created, stamp 0001, upgrade;
* otherwise → `alembic upgrade head`.

Two processes starting on one database take turns: Postgres through an advisory transaction lock, SQLite
through `BEGIN IMMEDIATE` (the file's write lock), both held until the one transaction commits.
"""

from __future__ import annotations

import functools
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import NameFilterParentNames, NameFilterType
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, MetaData, create_engine, event, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from copilot.errors import CopilotError, ErrorCode
from copilot.store.errors import storage_error
from copilot.store.migrations import baseline
from copilot.store.schema import metadata

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"
# Tables in the same database that other libraries own: never compared, never dropped by autogenerate.
FOREIGN_TABLES = frozenset(
    {
        "alembic_version",
        "casbin_rule",  # pycasbin's SQLAlchemy adapter (copilot.policy.store)
        "checkpoints",  # LangGraph savers (SQLite: checkpoints, writes; Postgres: + blobs, migrations)
        "writes",
        "checkpoint_blobs",
        "checkpoint_writes",
        "checkpoint_migrations",
    }
)
_PG_LOCK = 0x636F70696C6F74  # "copilot": the advisory lock key every migrating process takes

Outcome = Literal["created", "adopted", "upgraded", "current"]


@dataclass(frozen=True, slots=True)
class Migration:
    outcome: Outcome
    before: str | None
    after: str


def include_name(name: str | None, type_: NameFilterType, _parents: NameFilterParentNames) -> bool:
    """Alembic filter: compare and autogenerate only our own tables."""
    return type_ != "table" or name not in FOREIGN_TABLES


def alembic_config(
    connection: Connection | None = None, *, location: Path = MIGRATIONS, target: MetaData = metadata
) -> Config:
    """Alembic's configuration, in code: env.py reads the connection and the target metadata from it."""
    config = Config()
    config.set_main_option("script_location", str(location))
    config.attributes["connection"] = connection
    config.attributes["target_metadata"] = target
    return config


@functools.cache
def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    revision = script_directory().get_current_head()
    assert revision is not None, "copilot/store/migrations/versions holds no revision"
    return revision


def current_revision(conn: Connection) -> str | None:
    """The database's revision (None: never stamped: fresh, or made by release 746edb1)."""
    return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> Migration:
    """Bring the database to head (idempotent; safe when several processes start at once)."""
    try:
        with _locking_engine(engine) as locking, locking.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
            return _to_head(conn)
    except DBAPIError as exc:  # a read-only, full or unreachable database: say what to fix
        typed = storage_error(exc)
        if typed is None:
            raise
        raise typed from exc


def _to_head(conn: Connection) -> Migration:
    before = current_revision(conn)
    if before is None and not set(inspect(conn).get_table_names()) & set(metadata.tables):
        metadata.create_all(conn)
        MigrationContext.configure(conn).stamp(script_directory(), "head")
        return Migration("created", None, head())
    outcome: Outcome = "upgraded"
    if before is None:  # release 746edb1 ran create_all on every start: finish that, then adopt it
        baseline.metadata.create_all(conn)
        MigrationContext.configure(conn).stamp(script_directory(), BASELINE)
        outcome = "adopted"
    if before == head():
        return Migration("current", before, before)
    try:
        command.upgrade(alembic_config(conn), "head")
    except CommandError as exc:
        raise CopilotError(
            ErrorCode.CONFIGURATION,
            f"The database is at schema revision {before!r}, which this release does not know ({exc}); "
            "run the release that migrated it, or restore a backup taken before.",
        ) from exc
    return Migration(outcome, before, head())


def new_revision(message: str, *, location: Path = MIGRATIONS, target: MetaData = metadata) -> Path:
    """Write the next revision (`000N_<message>.py`): what `target` has that the revision chain does not,
    autogenerated against a scratch SQLite database upgraded through the chain. Review it before committing."""
    script = ScriptDirectory.from_config(alembic_config(location=location))
    number = int(script.get_current_head() or "0") + 1
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'chain.db'}", poolclass=NullPool)
        with engine.begin() as conn:
            config = alembic_config(conn, location=location, target=target)
            _format_with_ruff(config)
            command.upgrade(config, "head")
            written = command.revision(config, message, autogenerate=True, rev_id=f"{number:04d}")
        engine.dispose()
    assert isinstance(written, Script)
    return Path(written.path)


def _format_with_ruff(config: Config) -> None:
    """Alembic's post-write hook: `ruff format` the new revision when ruff is installed (a dev environment)."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        return
    for option, value in (("hooks", "ruff"), ("ruff.type", "exec"), ("ruff.executable", ruff)):
        config.set_section_option("post_write_hooks", option, value)
    config.set_section_option("post_write_hooks", "ruff.options", "format -q REVISION_SCRIPT_FILENAME")


@contextmanager
def _locking_engine(engine: Engine) -> Iterator[Engine]:
    """The engine to migrate with: for a SQLite file, a private one whose transactions take the write lock."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield engine
        return
    locking = create_engine(engine.url, poolclass=NullPool, connect_args={"timeout": 60})
    event.listen(locking, "connect", _driver_autocommit)
    event.listen(locking, "begin", _begin_immediate)
    try:
        yield locking
    finally:
        locking.dispose()


def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's documented recipe: let us emit BEGIN ourselves


def _begin_immediate(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")
