"""The same store, gateway and event log on PostgreSQL (the scale-out database). Needs a server: set
COPILOT_TEST_POSTGRES_URL (default: the local trust-auth server); skips outside CI when none answers,
never skips in CI."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from copilot.eventlog import EventLog
from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.gateway.gateway import Gateway
from copilot.packs import load_pack
from copilot.principal import Principal
from copilot.settings import PROJECT_ROOT
from copilot.store.database import make_engine
from copilot.store.documents import DocumentStore
from copilot.store.schema import audit_log, executions
from tests.conftest import IN_CI

pytestmark = pytest.mark.postgres

SERVER = os.environ.get("COPILOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CUSTOMER = Principal("demo", "customer", "demo_customer_0001")


@pytest.fixture(scope="module")
def pg_engine() -> Iterator[Engine]:
    """A fresh database on the server for this module, dropped afterwards."""
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        admin.dispose()
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL at {SERVER} does not answer: {exc}")
        pytest.skip(f"no PostgreSQL server at {SERVER} (set COPILOT_TEST_POSTGRES_URL to run these tests)")
    name = f"copilot_test_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(SERVER.rsplit("/", 1)[0] + f"/{name}")
    try:
        with engine.begin() as conn:
            load_pack(PROJECT_ROOT / "tools" / "retail").seed(DocumentStore(conn, "demo"), None)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def gateway(pg_engine: Engine) -> Gateway:
    pack = load_pack(PROJECT_ROOT / "tools" / "retail")
    return Gateway(pg_engine, pack, CasbinAuthorizer.from_dir(Path(PROJECT_ROOT / "policies")))


def test_reads_and_ownership_on_postgres(gateway: Gateway) -> None:
    own = gateway.call(CUSTOMER, "get_order_details", {"order_id": "w0000001"}, call_id="r1")
    assert own.outcome == "executed" and own.result["order_id"] == "#W0000001"
    foreign = gateway.call(CUSTOMER, "get_order_details", {"order_id": "#W0000004"}, call_id="r2")
    assert (foreign.outcome, foreign.code) == ("denied", "denied")


def test_write_previews_then_executes_once_on_postgres(gateway: Gateway, pg_engine: Engine) -> None:
    args = {"order_id": "#W0000001", "reason": "ordered by mistake"}
    preview = gateway.call(CUSTOMER, "cancel_pending_order", args, call_id="w1")
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
