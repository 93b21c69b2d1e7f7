"""Fixtures: the retail pack seeded into a real SQLite file once per session, copied per test, with the
policy store seeded from policies/ (real Casbin, real sqlalchemy-adapter)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from copilot.packs import Pack, load_pack
from copilot.policy.reload import LiveAuthorizer, LocalNotifier
from copilot.policy.rules import Rule
from copilot.policy.service import PolicyService, open_policy
from copilot.settings import PROJECT_ROOT
from copilot.store.database import make_engine
from copilot.store.documents import DocumentStore
from copilot.store.schema import documents

POLICIES = PROJECT_ROOT / "policies"


@pytest.fixture(scope="session")
def pack() -> Pack:
    return load_pack(PROJECT_ROOT / "tools" / "retail")


@pytest.fixture(scope="session")
def template(pack: Pack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("policy") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        pack.seed(DocumentStore(conn, "demo"), None)
    engine.dispose()
    return path


@pytest.fixture
def engine(template: Path, tmp_path: Path) -> Iterator[Engine]:
    target = tmp_path / "copilot.db"
    shutil.copy(template, target)
    built = make_engine(f"sqlite:///{target}")
    yield built
    built.dispose()


@pytest.fixture
def notifier() -> LocalNotifier:
    return LocalNotifier()


@pytest.fixture
def opened(engine: Engine, pack: Pack, notifier: LocalNotifier) -> tuple[PolicyService, LiveAuthorizer]:
    return open_policy(engine, pack, POLICIES, notifier=notifier)


@pytest.fixture
def service(opened: tuple[PolicyService, LiveAuthorizer]) -> PolicyService:
    return opened[0]


@pytest.fixture
def live(opened: tuple[PolicyService, LiveAuthorizer]) -> LiveAuthorizer:
    return opened[1]


def without(rules: list[Rule], *drop: Rule) -> list[Rule]:
    return [r for r in rules if r not in set(drop)]


CUSTOMER_CANCEL: Rule = ("p", "customer", "*", "cancel_pending_order", "call", "allow")


def pending_order(engine: Engine) -> tuple[str, str]:
    """(user id, order id) of some pending order in the demo data."""
    with engine.connect() as conn:
        rows = conn.execute(select(documents.c.id, documents.c.owner, documents.c.data).where(
            documents.c.tenant == "demo", documents.c.kind == "order")).all()  # fmt: skip
    for row in rows:
        data: dict[str, Any] = row.data
        if data.get("status") == "pending" and row.owner:
            return str(row.owner), str(row.id)
    raise AssertionError("the demo data has no pending order")
