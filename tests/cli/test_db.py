"""`copilot db current | upgrade` on a SQLite file made by release 746edb1."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from copilot.cli.main import app
from copilot.store.migrate import head
from tests.store.test_migrations import release_database

runner = CliRunner()


def test_current_then_upgrade_then_current(tmp_path: Path) -> None:
    release_database(tmp_path / "copilot.db")
    env = {"COPILOT_DATA_DIR": str(tmp_path), "COPILOT_DATABASE_URL": ""}
    before = runner.invoke(app, ["db", "current", "--check"], env=env)
    assert before.exit_code == 1, before.output
    assert "revision none" in before.stdout and "copilot db upgrade" in before.stdout
    upgraded = runner.invoke(app, ["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0, upgraded.output
    assert f"adopted a database made before migrations existed; now at revision {head()}" in upgraded.stdout
    after = runner.invoke(app, ["db", "current", "--check"], env=env)
    assert after.exit_code == 0, after.output
    assert after.stdout.strip().endswith(f"revision {head()} (head)")
    again = runner.invoke(app, ["db", "upgrade"], env=env)
    assert "already at the newest revision" in again.stdout


def test_upgrade_of_an_unknown_revision_exits_2(tmp_path: Path) -> None:
    env = {"COPILOT_DATA_DIR": str(tmp_path), "COPILOT_DATABASE_URL": ""}
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    with sqlite3.connect(tmp_path / "copilot.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.close()
    failed = runner.invoke(app, ["db", "upgrade"], env=env)
    assert failed.exit_code == 2
    assert "does not know" in failed.output
