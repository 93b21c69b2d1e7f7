"""Migrations on SQLite: a database made by release 746edb1 upgrades in place with its data; a fresh one is
created at head; replaying every revision from nothing gives exactly `copilot.store.schema.metadata`."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    inspect,
    select,
    text,
)

from copilot.errors import CopilotError
from copilot.store.database import make_engine
from copilot.store.migrate import (
    BASELINE,
    MIGRATIONS,
    alembic_config,
    current_revision,
    head,
    include_name,
    migrate,
    new_revision,
    script_directory,
)
from copilot.store.migrations import baseline
from copilot.store.schema import conversations, documents, events, metadata, previews

RELEASE_DUMP = Path(__file__).resolve().parent / "fixtures" / "release_746edb1.sql"


def schema_diff(engine: Engine, target: MetaData = metadata) -> list[Any]:
    """What autogenerate would change to make the database match `target` (our tables only)."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name, "compare_type": True})
        return list(compare_metadata(context, target))


def release_database(path: Path) -> str:
    """A SQLite file as release 746edb1 left it (schema + a few rows, no alembic_version)."""
    with sqlite3.connect(path) as conn:
        conn.executescript(RELEASE_DUMP.read_text())
    conn.close()
    return f"sqlite:///{path}"


def test_fixture_is_the_frozen_baseline(tmp_path: Path) -> None:
    engine = create_engine(release_database(tmp_path / "old.db"))
    assert schema_diff(engine, baseline.metadata) == []
    engine.dispose()


def test_release_database_upgrades_in_place_with_data(tmp_path: Path) -> None:
    url = release_database(tmp_path / "old.db")
    engine = make_engine(url)
    with engine.connect() as conn:
        assert current_revision(conn) == head()
        rows = conn.execute(select(documents.c.id, documents.c.data).order_by(documents.c.id)).all()
        assert [tuple(row) for row in rows] == [("#W1", {"status": "pending"}), ("u1", {"name": "Ada"})]
        assert conn.execute(select(events.c.data).where(events.c.seq == 2)).scalar_one() == {
            "text": "Your order is pending."
        }
        assert conn.execute(select(previews.c.tool)).scalar_one() == "cancel_pending_order"
        assert conn.execute(select(conversations.c.customer)).scalar_one() == "u1"
        rules = conn.execute(text("SELECT ptype, v0, v1 FROM casbin_rule")).all()
        assert [tuple(rule) for rule in rules] == [("p", "customer", "get_order_details")]
    assert schema_diff(engine) == []
    assert migrate(engine).outcome == "current"  # a second start changes nothing
    engine.dispose()


def test_fresh_database_is_created_at_head(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'new.db'}")
    result = migrate(engine)
    assert (result.outcome, result.before, result.after) == ("created", None, head())
    assert schema_diff(engine) == []
    engine.dispose()


def test_replaying_every_revision_equals_the_metadata(tmp_path: Path) -> None:
    """The fast path (create_all + stamp) and the migration chain must agree: a revision is missing when not."""
    engine = create_engine(f"sqlite:///{tmp_path / 'chain.db'}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
        assert current_revision(conn) == head()
    assert schema_diff(engine) == []
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()


def test_a_release_database_missing_later_tables_gets_them(tmp_path: Path) -> None:
    url = release_database(tmp_path / "old.db")
    with create_engine(url).begin() as conn:
        conn.execute(text("DROP TABLE approvals"))  # as an earlier build that predates approvals left it
    engine = make_engine(url)
    assert "approvals" in inspect(engine).get_table_names()
    assert schema_diff(engine) == []
    engine.dispose()


def test_two_processes_starting_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            engine = create_engine(url)
            outcomes.append(migrate(engine).outcome)
            engine.dispose()
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(outcomes) == ["created", "current", "current", "current"]


def test_a_revision_from_a_newer_release_is_a_clear_error(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(CopilotError, match="does not know") as info:
        migrate(engine)
    assert info.value.code == "configuration"
    engine.dispose()


def test_next_revision_is_generated_and_chains(tmp_path: Path) -> None:
    """What the next schema change does: add a table and a column to the metadata, generate the revision,
    upgrade a release database through the whole chain."""
    location = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, location, ignore=shutil.ignore_patterns("__pycache__"))
    target = MetaData()
    for table in metadata.tables.values():
        table.to_metadata(target)
    Table("notes", target, Column("note_id", String(64), primary_key=True), Column("at", DateTime(True)))
    Table("documents", target, extend_existing=True).append_column(Column("archived", Integer, nullable=True))
    written = new_revision("notes table", location=location, target=target)
    number = f"{int(head()) + 1:04d}"
    assert written.name == f"{number}_notes_table.py"
    source = written.read_text()
    assert "op.create_table(" in source and 'op.drop_table("notes")' in source and "add_column" in source
    engine = create_engine(release_database(tmp_path / "old.db"))
    with engine.begin() as conn:
        MigrationContext.configure(conn).stamp(script_directory(), BASELINE)
        command.upgrade(alembic_config(conn, location=location, target=target), "head")
        assert current_revision(conn) == number
    assert schema_diff(engine, target) == []
    assert schema_diff(engine) != []  # the real metadata has no notes table
    engine.dispose()


def test_a_read_only_database_that_needs_migrating_says_what_to_fix(tmp_path: Path) -> None:
    release_database(tmp_path / "old.db")
    read_only = create_engine(f"sqlite:///file:{tmp_path / 'old.db'}?mode=ro&uri=true")
    with pytest.raises(CopilotError, match="read-only") as info:
        migrate(read_only)
    assert info.value.code == "storage_unavailable"
    make_engine(f"sqlite:///{tmp_path / 'old.db'}").dispose()
    assert migrate(read_only).outcome == "current"  # at head, a read-only database starts (writes get a 503)
    read_only.dispose()


def test_the_global_policy_becomes_the_default_tenants(tmp_path: Path) -> None:
    """0005: a policy stored before per-tenant policies is the default tenant's, which is registered."""
    engine = create_engine(f"sqlite:///{tmp_path / 'policy.db'}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0004")
        conn.execute(text(
            "INSERT INTO policy_versions (version, created_at, author, message, kind, rules, diff, digest, etag) "
            "VALUES (1, '2026-12-01 10:00:00', 'system:seed', 'seed', 'seed', '[]', '{}', 'd', '\"1-d\"')"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO policy_state (id, active_version, etag, updated_at) VALUES (1, 1, '\"1-d\"', "
            "'2026-12-01 10:00:00')"
        ))  # fmt: skip
        command.upgrade(alembic_config(conn), "head")
        assert conn.execute(text("SELECT tenant, version, author FROM policy_versions")).all() == [
            ("demo", 1, "system:seed")
        ]
        assert conn.execute(text("SELECT tenant, active_version FROM policy_state")).all() == [("demo", 1)]
        assert conn.execute(text("SELECT tenant FROM tenants")).scalars().all() == ["demo"]
        command.downgrade(alembic_config(conn), "0004")
        assert conn.execute(text("SELECT id, active_version FROM policy_state")).all() == [(1, 1)]
    assert schema_diff(engine) != []  # back at 0004: the per-tenant columns are gone
    engine.dispose()
