"""The demo system the benchmarks run against: retail pack seeded into a SQLite file, seed Casbin policy,
the real gateway and the pack's help-center articles as the knowledge base (wired like copilot.wiring)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from copilot.agent.retrieve import KnowledgeRetriever
from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.gateway.gateway import Gateway
from copilot.knowledge import KnowledgeBase
from copilot.packs import Pack, load_pack
from copilot.principal import Principal
from copilot.settings import PROJECT_ROOT, Settings
from copilot.store.database import make_engine
from copilot.store.documents import Doc, DocumentStore

CUSTOMER = Principal(tenant="demo", role="customer", user_id="demo_customer_0001")
OWN_ORDER = "#W0000001"
"""demo_customer_0001's pending order in the generated demo store."""


@dataclass
class DemoSystem:
    settings: Settings
    engine: Engine
    pack: Pack
    authorizer: CasbinAuthorizer
    gateway: Gateway
    retriever: KnowledgeRetriever

    def read_order(self, order_id: str) -> Doc | None:
        """The store read get_order_details does, as a plain function (the bare agent's tool body)."""
        with self.engine.connect() as conn:
            return DocumentStore(conn, CUSTOMER.tenant).get("order", order_id)


def open_demo(workdir: Path) -> DemoSystem:
    """Create the database under `workdir`, seed the demo store and build the gateway and KB."""
    settings = Settings(data_dir=workdir)
    engine = make_engine(settings.resolved_database_url)
    pack = load_pack(PROJECT_ROOT / "tools" / "retail")
    with engine.begin() as conn:
        pack.seed(DocumentStore(conn, CUSTOMER.tenant), None)
    authorizer = CasbinAuthorizer.from_dir(PROJECT_ROOT / "policies")
    gateway = Gateway(engine, pack, authorizer)
    kb = KnowledgeBase.from_paths([pack.articles_dir])
    return DemoSystem(settings, engine, pack, authorizer, gateway, KnowledgeRetriever(kb))
