"""A gateway over a seeded store for one-off runs (`copilot tools call`, `copilot redteam`, benchmarks), and
one over the store `copilot serve` uses (`copilot tools call` by default)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.gateway.gateway import Gateway
from copilot.packs import load_pack
from copilot.policy.service import open_policy
from copilot.settings import Settings
from copilot.store.database import make_engine
from copilot.store.documents import DocumentStore
from copilot.store.schema import documents
from copilot.wiring import seed_if_empty


@contextmanager
def seeded_gateway(
    settings: Settings, *, data: Path | None, tenant: str, database_url: str | None = None
) -> Iterator[Gateway]:
    """The configured pack and policy over `database_url` (default: a temporary SQLite file), seeded from
    `data` (a τ² db.json) or the pack's demo generator when the tenant has no documents yet."""
    with tempfile.TemporaryDirectory(prefix="copilot-") as tmp:
        engine = make_engine(database_url or f"sqlite:///{Path(tmp) / 'copilot.db'}")
        try:
            pack = load_pack(settings.pack_path)
            with engine.begin() as conn:
                count = conn.execute(
                    select(func.count()).select_from(documents).where(documents.c.tenant == tenant)
                ).scalar_one()
                if not count:
                    pack.seed(DocumentStore(conn, tenant), data)
            authorizer = CasbinAuthorizer.from_dir(settings.policy_dir)
            ttl = timedelta(seconds=settings.confirmation_ttl_seconds)
            yield Gateway(engine, pack, authorizer, confirmation_ttl=ttl)
        finally:
            engine.dispose()


@contextmanager
def server_gateway(settings: Settings) -> Iterator[Gateway]:
    """The gateway `copilot serve` builds over its own store (COPILOT_DATA_DIR or COPILOT_DATABASE_URL):
    seeded on first use exactly as the server would, deciding on the store's active policy version."""
    engine = make_engine(settings.resolved_database_url)
    try:
        pack = load_pack(settings.pack_path)
        seed_if_empty(engine, pack, settings)
        _, authorizer = open_policy(engine, pack, settings.policy_dir, tenant=settings.default_tenant)
        ttl = timedelta(seconds=settings.confirmation_ttl_seconds)
        yield Gateway(engine, pack, authorizer, confirmation_ttl=ttl)
    finally:
        engine.dispose()
