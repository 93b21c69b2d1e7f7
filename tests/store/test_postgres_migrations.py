"""Migrations on PostgreSQL: a release-746edb1 database upgrades in place, a fresh one is created at head, the
revision chain equals the metadata, and four processes starting at once take turns (advisory lock)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, insert, select
from sqlalchemy_adapter import Adapter

from copilot.store.database import make_engine
from copilot.store.migrate import alembic_config, current_revision, head, migrate
from copilot.store.migrations import baseline
from copilot.store.schema import documents, events
from tests.databases import postgres_database
from tests.store.test_migrations import schema_diff

pytestmark = pytest.mark.postgres
AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def url() -> Iterator[str]:
    with postgres_database() as database:
        yield database


def test_release_database_upgrades_in_place_on_postgres(url: str) -> None:
    old = create_engine(url)
    baseline.metadata.create_all(old)  # what release 746edb1's make_engine left
    Adapter(old)
    with old.begin() as conn:
        conn.execute(insert(documents).values(tenant="demo", kind="user", id="u1", owner="u1", data={"n": 1}))
        conn.execute(insert(events).values(conversation_id="c1", seq=1, type="turn.started", data={}, at=AT))
    old.dispose()
    engine = make_engine(url)
    with engine.connect() as conn:
        assert current_revision(conn) == head()
        assert conn.execute(select(documents.c.data)).scalar_one() == {"n": 1}
        assert conn.execute(select(events.c.at)).scalar_one() == AT
    assert schema_diff(engine) == []
    engine.dispose()


def test_fresh_database_is_at_head_on_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.connect() as conn:
        assert current_revision(conn) == head()
    assert schema_diff(engine) == []
    engine.dispose()


def test_revision_chain_equals_metadata_on_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    assert schema_diff(engine) == []
    engine.dispose()


def test_four_processes_starting_at_once_on_postgres(url: str) -> None:
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def start() -> None:
        engine = create_engine(url)
        try:
            outcomes.append(migrate(engine).outcome)
        except BaseException as exc:  # reported on the test's thread
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(outcomes) == ["created", "current", "current", "current"]
