"""A real world for graph tests: SQLite store seeded with the retail demo data, the real retail pack,
Casbin policy and Gateway (no fakes below the graph except the retriever)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, select

from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.gateway.gateway import Gateway
from copilot.packs import Pack, load_pack
from copilot.principal import Principal
from copilot.settings import PROJECT_ROOT, Settings
from copilot.store.database import make_engine
from copilot.store.documents import DocumentStore
from copilot.store.schema import executions

CUSTOMER = Principal(tenant="demo", role="customer", user_id="demo_customer_0002")
PENDING = "#W0000004"  # demo_customer_0002's pending order
FOREIGN = "#W0000003"  # demo_customer_0001's order


@dataclass
class World:
    settings: Settings
    engine: Engine
    pack: Pack
    gateway: Gateway

    @classmethod
    def create(cls, data_dir: Path, template: Path | None = None) -> World:
        """A world in `data_dir`; with `template` (a seeded copilot.db) the file is copied, not re-seeded."""
        settings = Settings(data_dir=data_dir)
        pack = load_pack(PROJECT_ROOT / "tools" / "retail")
        if template is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(template, data_dir / "copilot.db")
        engine = make_engine(settings.resolved_database_url)
        if template is None:
            with engine.begin() as conn:
                pack.seed(DocumentStore(conn, "demo"), None)
        gateway = Gateway(engine, pack, CasbinAuthorizer.from_dir(PROJECT_ROOT / "policies"))
        return cls(settings, engine, pack, gateway)

    def status(self, order_id: str) -> str:
        with self.engine.connect() as conn:
            order = DocumentStore(conn, "demo").get("order", order_id)
        assert order is not None
        return str(order["status"])

    def executions(self) -> int:
        """Rows of the gateway's exactly-once ledger = writes that really ran."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(executions)).scalar_one())
