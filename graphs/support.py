"""LangGraph entry point: langgraph.json maps "support" → ./graphs/support.py:graph.

`graph` is a graph factory, which LangGraph's server accepts in place of a compiled graph: it calls the
function (with the run's RunnableConfig) and runs the returned graph with the server's own checkpointer.
The graph is built lazily, once, from default Settings (COPILOT_* environment) — nothing heavy happens at
import time. The node logic lives in copilot.agent; this module is wiring only.

The graph reads the caller from config["configurable"]["principal"] (a copilot.principal.Principal). Our
API sets it from the verified bearer token; under the LangGraph server, custom auth must inject it — a
principal sent as plain JSON is refused (UNAUTHENTICATED), so a client can never pick its own role.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from langchain_core.runnables import RunnableConfig

from copilot.agent.deps import AgentDeps
from copilot.agent.graph import SupportGraph, build_graph
from copilot.agent.retrieve import KnowledgeRetriever
from copilot.settings import Settings


def graph(config: RunnableConfig | None = None) -> SupportGraph:
    """The compiled support graph (built on first use; the server supplies the checkpointer)."""
    return _support_graph()


@functools.cache
def _support_graph() -> SupportGraph:
    from copilot.gateway.casbin_authorizer import CasbinAuthorizer
    from copilot.gateway.gateway import Gateway
    from copilot.knowledge import open_knowledge_base
    from copilot.packs import load_pack
    from copilot.store.database import make_engine
    from copilot.wiring import default_model, seed_if_empty

    settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    pack = load_pack(settings.pack_path)
    seed_if_empty(engine, pack, settings)
    ttl = timedelta(seconds=settings.confirmation_ttl_seconds)
    gateway = Gateway(engine, pack, CasbinAuthorizer.from_dir(settings.policy_dir), confirmation_ttl=ttl)
    kb = open_knowledge_base(settings, [pack.articles_dir])
    deps = AgentDeps(
        model=default_model(settings, pack),
        gateway=gateway,
        retriever=KnowledgeRetriever(kb),
        tools=[t.spec for t in pack.tools],
    )
    return build_graph(deps)
