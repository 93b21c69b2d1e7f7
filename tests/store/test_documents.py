"""DocumentStore's optimistic concurrency on real SQLite and Postgres: a write is a compare-and-set on the
version this store read, so two writers never lose an update whatever the database's isolation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from copilot.store.documents import DocumentConflict, DocumentStore
from copilot.store.schema import documents
from tests.databases import BACKENDS, fresh_engine


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with fresh_engine(request.param, tmp_path) as engine:
        with engine.begin() as conn:
            DocumentStore(conn, "t").put("card", "g1", {"balance": 100}, owner="u1")
        yield engine


def _version(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(documents.c.version).where(documents.c.id == "g1")).scalar_one())


def test_a_write_after_someone_elses_is_a_conflict_not_a_lost_update(engine: Engine) -> None:
    with engine.connect() as first_conn, engine.connect() as second_conn:
        first, second = DocumentStore(first_conn, "t"), DocumentStore(second_conn, "t")
        a, b = first.get("card", "g1"), second.get("card", "g1")  # both read version 1
        assert a is not None and b is not None
        first.put("card", "g1", {"balance": a["balance"] + 10})
        first_conn.commit()
        with pytest.raises(DocumentConflict):
            second.put("card", "g1", {"balance": b["balance"] + 20})
        assert second.conflicted
        second_conn.rollback()
    with engine.connect() as conn:
        assert DocumentStore(conn, "t").get("card", "g1") == {"balance": 110}
    assert _version(engine) == 2


def test_reading_a_changed_document_again_is_a_conflict(engine: Engine) -> None:
    with engine.connect() as reader_conn:
        reader = DocumentStore(reader_conn, "t")
        reader.get("card", "g1")
        with engine.begin() as conn:
            DocumentStore(conn, "t").put("card", "g1", {"balance": 0})
        with pytest.raises(DocumentConflict):
            reader.get("card", "g1")


def test_two_inserts_of_one_document_conflict(engine: Engine) -> None:
    with engine.connect() as first_conn, engine.connect() as second_conn:
        first, second = DocumentStore(first_conn, "t"), DocumentStore(second_conn, "t")
        assert first.get("card", "g2") is None and second.get("card", "g2") is None
        first.put("card", "g2", {"balance": 5}, owner="u1")
        first_conn.commit()
        with pytest.raises(DocumentConflict):
            second.put("card", "g2", {"balance": 7}, owner="u2")
        second_conn.rollback()
    with engine.connect() as conn:
        assert DocumentStore(conn, "t").get("card", "g2") == {"balance": 5}


def test_one_store_writes_a_document_many_times(engine: Engine) -> None:
    with engine.begin() as conn:
        store = DocumentStore(conn, "t")
        for balance in (1, 2, 3):
            store.put("card", "g1", {"balance": balance})
            assert store.get("card", "g1") == {"balance": balance}
        assert [c.after for c in store.changes] == [{"balance": 1}, {"balance": 2}, {"balance": 3}]
        assert store.changes[0].before == {"balance": 100}
    assert _version(engine) == 4
