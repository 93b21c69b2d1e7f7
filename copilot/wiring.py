"""Wire the real system from Settings: store (+ first-start seed), tool pack, Casbin authorizer, gateway,
knowledge base, chat model, checkpointer and the compiled support graph. Used by the API runtime and by
`copilot chat`; the one place that knows every concrete class."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from langchain_core.language_models import BaseChatModel
from sqlalchemy import Engine, func, select

from copilot.agent.checkpoint import open_checkpointer
from copilot.agent.deps import AgentDeps
from copilot.agent.graph import SupportGraph, build_graph
from copilot.agent.retrieve import KnowledgeRetriever
from copilot.agent.runner import run_turn
from copilot.coalesce import FlushPolicy
from copilot.events import EventSink
from copilot.gateway.gateway import Gateway
from copilot.handoff.approvals import ApprovalStore
from copilot.health import CheckpointerProbe, Probe
from copilot.knowledge import KnowledgeBase, open_knowledge_base
from copilot.llm.factory import aclose_models
from copilot.llm.runtime_settings import model_deps, prompt_tokens
from copilot.packs import Pack, load_pack
from copilot.policy.service import open_policy
from copilot.prompts.service import PromptRegistry
from copilot.prompts.stamp import current_stamp
from copilot.prompts.templates import seed_templates
from copilot.prompts.turns import TurnStamper, model_label
from copilot.settings import Settings
from copilot.store.database import make_engine
from copilot.store.documents import DocumentStore
from copilot.store.schema import documents
from copilot.telemetry import metrics
from copilot.telemetry.retrieval import ObservedRetriever
from copilot.turns import TurnRequest, TurnStatus

log = logging.getLogger(__name__)


@dataclass
class System:
    settings: Settings
    engine: Engine
    pack: Pack
    gateway: Gateway
    kb: KnowledgeBase
    graph: SupportGraph
    facts: dict[str, Any] = field(default_factory=dict)
    deps: AgentDeps | None = None
    """The graph's model, retriever and tools (agent assist reuses them)."""
    probes: list[Probe] = field(default_factory=list)
    """Readiness probes of what the system opened (the checkpointer)."""
    prompts: PromptRegistry | None = None
    """Every tenant's versioned prompts (seeded from the pack); each turn uses the published version."""
    stamper: TurnStamper | None = None
    """Wraps the runner: the turn's prompt, model and policy versions on its audit rows and its own record."""

    async def runner(self, request: TurnRequest, sink: EventSink) -> TurnStatus:
        """The TurnRunner of the API: one graph turn for the request, with the prompt set the stamper resolved
        for it (wrap it with `stamper.wrap`)."""
        stamp = current_stamp()
        return await run_turn(
            self.graph,
            conversation_id=request.conversation_id,
            turn_id=request.turn_id,
            principal=request.principal,
            sink=sink,
            text=request.text,
            resume=request.resume,
            attempt=request.attempt,
            may_answer=request.may_answer,
            flush=FlushPolicy(self.settings.delta_flush_ms / 1000, self.settings.delta_flush_chars),
            prompts=stamp.prompts if stamp is not None else None,
        )

    async def pending_previews(self, conversation_id: str) -> set[str]:
        """Preview ids the conversation's graph is interrupted on (awaiting the human's decision)."""
        snapshot = await self.graph.aget_state({"configurable": {"thread_id": conversation_id}})
        values = [i.value for i in snapshot.interrupts if isinstance(i.value, dict)]
        previews = [v.get("preview") for v in values]
        return {str(p["preview_id"]) for p in previews if isinstance(p, dict) and "preview_id" in p}


def seed_if_empty(engine: Engine, pack: Pack, settings: Settings) -> int:
    """Load the pack's data (or COPILOT_DATA_PATH's db.json) once: only when the tenant has no documents."""
    tenant = settings.default_tenant
    with engine.begin() as conn:
        count = conn.execute(select(func.count()).select_from(documents).where(documents.c.tenant == tenant))
        if count.scalar_one():
            return 0
        loaded = pack.seed(DocumentStore(conn, tenant), settings.data_path)
    source = settings.data_path or "the demo generator"
    log.warning("seeded tenant %r with %d records from %s", tenant, loaded, source)
    return loaded


def default_model(settings: Settings, pack: Pack) -> BaseChatModel:
    """The configured chat model (COPILOT_MODEL: offline by default)."""
    from copilot.llm.factory import make_chat_model

    return make_chat_model(settings, pack)


@asynccontextmanager
async def open_system(settings: Settings, *, model: BaseChatModel | None = None) -> AsyncIterator[System]:
    """Build everything; `model` overrides the configured one (tests pass a scripted model)."""
    engine = make_engine(settings.resolved_database_url)
    pack = load_pack(settings.pack_path)
    metrics.know_tools({t.spec.name for t in pack.tools})
    await asyncio.to_thread(seed_if_empty, engine, pack, settings)
    _, authorizer = await asyncio.to_thread(  # DB-backed, versioned policy; follows activations live
        open_policy, engine, pack, settings.policy_dir, tenant=settings.default_tenant
    )
    ttl = timedelta(seconds=settings.confirmation_ttl_seconds)
    gateway = Gateway(engine, pack, authorizer, confirmation_ttl=ttl, approvals=ApprovalStore(engine))
    policy_store = authorizer.store
    kb = await asyncio.to_thread(open_knowledge_base, settings, [pack.articles_dir])
    chat_model = model or default_model(settings, pack)
    deps = AgentDeps(
        model=chat_model,
        gateway=gateway,
        retriever=ObservedRetriever(KnowledgeRetriever(kb)),
        tools=[t.spec for t in pack.tools],
        **model_deps(settings, pack, gateway.audit, authorizer, custom=model is not None),
    )
    async with open_checkpointer(settings) as saver:
        facts = {
            "tools": len(pack.tools),
            "kb_chunks": len(kb),
            "model": settings.model if model is None else "custom",
            "prompt_tokens": prompt_tokens(deps, settings.default_tenant),
        }
        log.info("fixed prompt per call, approximate tokens by role: %s", facts["prompt_tokens"])
        prompts = PromptRegistry(engine, seed_templates(deps.instructions))
        stamp_policy = lambda tenant, conn: policy_store.for_tenant(tenant).active_number(conn)  # noqa: E731
        label = model_label(settings.model) if model is None else "custom:custom"
        stamper = TurnStamper(engine, prompts, stamp_policy, gateway.audit, label)
        try:
            graph = build_graph(deps, saver)
            yield System(
                settings,
                engine,
                pack,
                gateway,
                kb,
                graph,
                facts,
                deps,
                [CheckpointerProbe(saver)],
                prompts,
                stamper,
            )
        finally:
            owned = [*deps.fallbacks] if model is not None else [chat_model, *deps.fallbacks]
            await aclose_models(owned)
            engine.dispose()
