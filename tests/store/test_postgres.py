"""The same store, gateway and event log on PostgreSQL (the scale-out database). Needs a server (see
tests/databases.py): skips outside CI when none answers, never skips in CI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from copilot.eventlog import EventLog
from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.gateway.gateway import Gateway
from copilot.packs import load_pack
from copilot.principal import Principal
from copilot.settings import PROJECT_ROOT
from copilot.store.database import make_engine
from copilot.store.documents import DocumentStore
from copilot.store.schema import audit_log, executions
from tests.databases import postgres_database

pytestmark = pytest.mark.postgres

CUSTOMER = Principal("demo", "customer", "demo_customer_0001")


@pytest.fixture(scope="module")
def pg_engine() -> Iterator[Engine]:
    """A fresh database on the server for this module, dropped afterwards."""
    with postgres_database() as url:
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                load_pack(PROJECT_ROOT / "tools" / "retail").seed(DocumentStore(conn, "demo"), None)
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def gateway(pg_engine: Engine) -> Gateway:
    pack = load_pack(PROJECT_ROOT / "tools" / "retail")
    return Gateway(pg_engine, pack, CasbinAuthorizer.from_dir(Path(PROJECT_ROOT / "policies")))


def test_reads_and_ownership_on_postgres(gateway: Gateway) -> None:
    own = gateway.call(CUSTOMER, "get_order_details", {"order_id": "w0000001"})
    assert own.outcome == "executed" and own.result["order_id"] == "#W0000001"
    foreign = gateway.call(CUSTOMER, "get_order_details", {"order_id": "#W0000004"})
    assert (foreign.outcome, foreign.code) == ("denied", "denied")


def test_write_previews_then_executes_once_on_postgres(gateway: Gateway, pg_engine: Engine) -> None:
    args = {"order_id": "#W0000001", "reason": "ordered by mistake"}
    preview = gateway.call(CUSTOMER, "cancel_pending_order", args)
    assert preview.outcome == "preview" and preview.preview is not None
    with pg_engine.connect() as conn:
        assert DocumentStore(conn, "demo").get("order", "#W0000001")["status"] == "pending"  # type: ignore[index]
    gateway.decide(CUSTOMER, preview.preview.preview_id, approve=True)
    first = gateway.execute(CUSTOMER, preview.preview.preview_id)
    again = gateway.execute(CUSTOMER, preview.preview.preview_id)
    assert first.outcome == "executed" and first.result["status"] == "cancelled"
    assert again.result == first.result
    with pg_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(executions)).scalar_one() == 1
        outcomes = [row[0] for row in conn.execute(select(audit_log.c.outcome).order_by(audit_log.c.seq))]
    assert {"preview", "confirm", "execute"} <= set(outcomes)


async def test_event_log_sequences_on_postgres(pg_engine: Engine) -> None:
    log = EventLog(pg_engine)
    seqs = [await log.append("conv_pg", "turn.started", {"n": n}) for n in range(3)]
    assert seqs == [1, 2, 3]
    assert [e["data"]["n"] for e in await log.read_after("conv_pg", 1)] == [1, 2]
