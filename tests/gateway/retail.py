"""The real retail pack over a small seeded store (2 demo users, 6 orders, the catalogue) on SQLite or
Postgres, and helpers to drive writes through the whole gateway protocol."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.gateway.gateway import Gateway
from copilot.gateway.result import GatewayResult
from copilot.packs import Pack, load_pack
from copilot.principal import Principal
from copilot.settings import PROJECT_ROOT
from copilot.store.documents import Doc, DocumentStore
from copilot.store.schema import audit_log, executions
from tests.databases import BACKENDS, fresh_engine

ALEX = Principal("demo", "customer", "demo_customer_0001")
SAM = Principal("demo", "customer", "demo_customer_0002")
AGENT = Principal("demo", "agent", "ann")


@cache
def retail_pack() -> Pack:
    return load_pack(PROJECT_ROOT / "tools" / "retail")


def seed_small(engine: Engine) -> None:
    retail_pack()
    demo: Any = importlib.import_module("copilot_packs.retail.demo_data")
    seed: Any = importlib.import_module("copilot_packs.retail.seed")
    with engine.begin() as conn:
        seed.load(DocumentStore(conn, "demo"), demo.generate(users=0))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def retail_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    with fresh_engine(backend, tmp_path) as engine:
        seed_small(engine)
        yield engine


def make_gateway(engine: Engine, pack: Pack | None = None) -> Gateway:
    return Gateway(engine, pack or retail_pack(), CasbinAuthorizer.from_dir(PROJECT_ROOT / "policies"))


@pytest.fixture
def retail_gateway(retail_engine: Engine) -> Gateway:
    return make_gateway(retail_engine)


def doc(engine: Engine, kind: str, id_: str) -> Doc:
    with engine.connect() as conn:
        found = DocumentStore(conn, "demo").get(kind, id_)
    assert found is not None
    return found


def put(engine: Engine, kind: str, id_: str, data: Doc, owner: str | None = None) -> None:
    with engine.begin() as conn:
        DocumentStore(conn, "demo").put(kind, id_, data, owner=owner)


def gift_card(engine: Engine, user_id: str, method_id: str) -> float:
    balance: float = doc(engine, "user", user_id)["payment_methods"][method_id]["balance"]
    return balance


def preview(gateway: Gateway, who: Principal, tool: str, args: dict[str, Any]) -> str:
    result = gateway.call(who, tool, args, conversation_id="conv")
    assert result.outcome == "preview" and result.preview is not None, (result.code, result.message)
    return result.preview.preview_id


def approved(gateway: Gateway, who: Principal, tool: str, args: dict[str, Any]) -> str:
    preview_id = preview(gateway, who, tool, args)
    gateway.decide(who, preview_id, approve=True)
    return preview_id


def write(gateway: Gateway, who: Principal, tool: str, args: dict[str, Any]) -> GatewayResult:
    """preview → confirm → execute."""
    return gateway.execute(who, approved(gateway, who, tool, args))


def ledger_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(executions)).scalar_one())


def audit_outcomes(engine: Engine, tool: str | None = None) -> list[str]:
    query = select(audit_log.c.outcome).order_by(audit_log.c.seq)
    if tool is not None:
        query = query.where(audit_log.c.tool == tool)
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(query)]
