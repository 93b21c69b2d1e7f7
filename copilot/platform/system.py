"""What the LangGraph server (langgraph.json) runs: the support graph, its gateway and the token secret, built
once per process from Settings (COPILOT_* environment) on a worker thread, never on the server's event loop
(`langgraph dev` refuses blocking calls there: mkdir, file and database IO)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from copilot.agent.graph import SupportGraph
from copilot.gateway.gateway import Gateway
from copilot.keys import KeyRing


@dataclass(frozen=True)
class ServerSystem:
    graph: SupportGraph
    gateway: Gateway
    engine: Engine
    secret: str
    keys: KeyRing | None = None
    """Token keys of Settings (rotation, tenant keys); None: just `secret`."""


_built: ServerSystem | None = None
_lock = threading.Lock()
"""The server runs runs and requests on several event loops (threads): one build for all of them."""


async def server_system() -> ServerSystem:
    """The process's system, built on first use (in a thread) and shared afterwards."""
    built = _built
    return built if built is not None else await asyncio.to_thread(_build_once)


def _build_once() -> ServerSystem:
    global _built
    with _lock:
        if _built is None:
            _built = _build()
        return _built


def _build() -> ServerSystem:
    from copilot.agent.deps import AgentDeps
    from copilot.agent.graph import build_graph
    from copilot.agent.retrieve import KnowledgeRetriever
    from copilot.auth import key_ring, resolve_secret
    from copilot.handoff.approvals import ApprovalStore
    from copilot.knowledge import open_knowledge_base
    from copilot.packs import load_pack
    from copilot.policy.service import open_policy
    from copilot.settings import Settings
    from copilot.store.database import make_engine
    from copilot.tenant_keys import open_tenant_keys
    from copilot.wiring import default_model, seed_if_empty

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    pack = load_pack(settings.pack_path)
    seed_if_empty(engine, pack, settings)
    _, authorizer = open_policy(engine, pack, settings.policy_dir, tenant=settings.default_tenant)
    ttl = timedelta(seconds=settings.confirmation_ttl_seconds)  # the API's gateway, the same decisions:
    gateway = Gateway(engine, pack, authorizer, confirmation_ttl=ttl, approvals=ApprovalStore(engine))
    kb = open_knowledge_base(settings, [pack.articles_dir])
    deps = AgentDeps(
        model=default_model(settings, pack),
        gateway=gateway,
        retriever=KnowledgeRetriever(kb),
        tools=[t.spec for t in pack.tools],
    )
    secret = resolve_secret(settings)
    keys = key_ring(settings, secret, managed=open_tenant_keys(engine, settings, secret))
    return ServerSystem(build_graph(deps), gateway, engine, secret, keys)
