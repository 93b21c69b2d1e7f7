"""The running copilot: everything `create_app` and `copilot chat` need, built once from Settings.

`Runtime` is the small set of services the API uses (secret, conversations, event log, turn scheduler,
confirmation decider, health facts). `open_runtime(settings)` wires the real system (store, pack + seed,
gateway, knowledge base, chat model, checkpointer, graph) in `copilot.wiring`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from copilot.auth import key_ring, resolve_secret
from copilot.backplane import Backplane, local_backplane, open_backplane
from copilot.conversations import ConversationStore
from copilot.doorbell import EventNotifier
from copilot.eventlog import EventLog
from copilot.faults import crash_point
from copilot.gateway.result import Preview
from copilot.handoff.queue import HandoffQueue
from copilot.handoff.service import Boundary, HandoffService
from copilot.handoff.staff import Staff
from copilot.health import Readiness, store_probes
from copilot.keys import KeyRing
from copilot.principal import Principal
from copilot.prompts.service import PromptRegistry
from copilot.settings import Settings
from copilot.store.database import make_engine
from copilot.telemetry import Telemetry
from copilot.telemetry.tracing import open_provider, tracer_of
from copilot.telemetry.turn import TurnObserver
from copilot.telemetry.usage import UsageLedger
from copilot.tenant_keys import TenantKeyStore, open_tenant_keys
from copilot.turns import TurnQueue, TurnRunner, TurnScheduler

if TYPE_CHECKING:
    from copilot.wiring import System

PendingLookup = Callable[[str], Awaitable[set[str]]]


class Decider(Protocol):
    """The human's confirmation of a preview (the gateway's `decide`); on `conn`, inside the caller's
    transaction (the decision commits together with its resume job)."""

    def decide(
        self, principal: Principal, preview_id: str, approve: bool, *, conn: Connection | None = None
    ) -> Preview: ...


@dataclass
class Runtime:
    settings: Settings
    secret: str
    engine: Engine
    conversations: ConversationStore
    events: EventLog
    turns: TurnScheduler
    decider: Decider
    handoff: HandoffService
    facts: dict[str, Any] = field(default_factory=dict)
    """Health facts: tools, kb_chunks, model."""
    waiting: PendingLookup | None = None
    """Preview ids the conversation's graph is waiting on (None: derive them from the event log)."""
    staff: Staff | None = None
    """Agent tools, approvals and assist (None in a runtime around a fake turn runner)."""
    backplane: Backplane = field(default_factory=Backplane)
    """Doorbell (topics events/turns/policy) and rate limits shared with the other workers."""
    readiness: Readiness = field(default_factory=Readiness)
    """GET /readyz probes; `readiness.drain()` on shutdown reports not-ready."""
    telemetry: Telemetry | None = None
    """Metrics and traces of this runtime (None: off; turns still record their model usage)."""
    keys: KeyRing | None = None
    """The token keys (copilot/keys.py); None: just `secret`."""
    observer: TurnObserver | None = None
    """Usage and budgets of model calls outside turns (`observer.metered`: staff assist); None: not recorded."""
    tenant_keys: TenantKeyStore | None = None
    """The platform admin's tenant keys (copilot/tenant_keys.py), which `keys` also verifies with."""
    prompts: PromptRegistry | None = None
    """Every tenant's versioned prompts (None: the admin API builds the registry from Settings)."""

    @property
    def key_ring(self) -> KeyRing:
        return self.keys or KeyRing.build(self.secret)

    async def pending_previews(self, conversation_id: str) -> set[str]:
        """Previews of this conversation that still await the human's decision."""
        if self.waiting is not None:
            return await self.waiting(conversation_id)
        pending: set[str] = set()
        for event in await self.events.read_all(conversation_id):
            if event["type"] == "tool.preview":
                pending.add(str(event["data"].get("preview_id")))
            elif event["type"] == "turn.started" and isinstance(event["data"].get("resume"), dict):
                pending.discard(str(event["data"]["resume"].get("preview_id")))
        return pending

    async def decide(self, principal: Principal, preview_id: str, approve: bool) -> Preview:
        return await asyncio.to_thread(self.decider.decide, principal, preview_id, approve)

    async def drain(self) -> None:
        """Shutting down (SIGTERM): report not-ready, take no new turns, let running ones finish for
        `drain_seconds`, hand the rest to recovery. Idempotent; open SSE streams keep flowing meanwhile."""
        self.readiness.drain()
        await self.turns.drain(self.settings.drain_seconds)

    async def confirm(
        self, principal: Principal, conversation_id: str, preview_id: str, approve: bool
    ) -> str:
        """Record the human's decision and queue the graph's resume in ONE transaction (an outbox): once
        this returns, the resume runs exactly once on some worker, even if this process dies right now."""

        def commit() -> str:
            with self.engine.begin() as conn:
                preview = self.decider.decide(principal, preview_id, approve, conn=conn)
                resume = {"preview_id": preview.preview_id, "approved": approve}
                return self.turns.enqueue_on(conn, conversation_id, principal, resume=resume)

        def commit_retrying() -> str:
            """An approval's events take the next seqs inside this transaction; a concurrent append of the
            same seq rolled all of it back (IntegrityError): run it again on fresh reads."""
            for _ in range(2):
                try:
                    return commit()
                except IntegrityError:
                    continue
            return commit()

        turn_id = await asyncio.to_thread(commit_retrying)
        crash_point("confirm.committed")
        self.events.notify(conversation_id)  # events committed with the decision (an approval's request)
        self.turns.kick()
        return turn_id


def assemble(
    settings: Settings,
    *,
    runner: TurnRunner,
    decider: Decider,
    engine: Engine | None = None,
    facts: dict[str, Any] | None = None,
    waiting: PendingLookup | None = None,
    staff: Staff | None = None,
    boundary: Boundary | None = None,
    backplane: Backplane | None = None,
) -> Runtime:
    """Build a Runtime around a turn runner and a decider (tests pass fakes; `open_runtime` the real ones)."""
    secret = resolve_secret(settings)
    engine = engine or make_engine(settings.resolved_database_url)
    backplane = backplane or local_backplane(settings)
    events = EventLog(engine, EventNotifier(backplane.doorbell))
    conversations = ConversationStore(engine)
    handoff = HandoffService(HandoffQueue(engine), events, conversations, boundary)
    queue = TurnQueue(
        engine, lease=timedelta(seconds=settings.turn_lease_seconds), max_attempts=settings.turn_max_attempts
    )
    turns = TurnScheduler(
        queue, events, handoff.wrap_runner(runner),
        capacity=settings.turn_capacity, poll=settings.turn_poll_seconds, bell=backplane.doorbell,
    )  # fmt: skip
    handoff.turns = turns
    tenant_keys = open_tenant_keys(engine, settings, secret)
    return Runtime(
        settings=settings,
        secret=secret,
        keys=key_ring(settings, secret, managed=tenant_keys),
        tenant_keys=tenant_keys,
        engine=engine,
        conversations=conversations,
        events=events,
        turns=turns,
        decider=decider,
        handoff=handoff,
        facts=facts or {},
        waiting=waiting,
        staff=staff,
        backplane=backplane,
        readiness=Readiness(store_probes(settings, engine)),
    )


def open_staff(system: System, events: EventLog) -> Staff:
    """Agent tools, approvals and assist over the real gateway, model and knowledge base."""
    from copilot.handoff.approvals import ApprovalService, ApprovalStore
    from copilot.handoff.assist import Assistant

    assert system.deps is not None
    deps = system.deps
    approvals = ApprovalService(ApprovalStore(system.engine), system.gateway, events)
    assistant = Assistant(
        deps.model, deps.retriever, tools={spec.name for spec in deps.tools}, k=deps.k, calls=deps.calls,
        fallbacks=deps.fallbacks, instructions=deps.instructions, prompts=system.prompts,
    )  # fmt: skip
    return Staff(gateway=system.gateway, approvals=approvals, assistant=assistant)


def _retention_task(settings: Settings, runtime: Runtime, system: System) -> asyncio.Task[None] | None:
    """With COPILOT_RETENTION_DAYS, conversations idle for longer are deleted hourly (copilot/retention.py)."""
    from copilot.retention import Retention, retain_periodically

    saver = system.graph.checkpointer
    if settings.retention_days is None or not isinstance(saver, BaseCheckpointSaver):
        return None
    retention = Retention(runtime.engine, runtime.secret)
    loop = retain_periodically(retention, saver, settings.retention_days)
    return asyncio.create_task(loop, name="retention")


def _owed_task(settings: Settings, staff: Staff) -> asyncio.Task[None]:
    """Runs the approved executions a dead request left owing (copilot/handoff/owed.py): a decision older
    than one turn lease without a result, at start-up and every half lease."""
    from copilot.handoff.owed import execute_owed_periodically

    lease = settings.turn_lease_seconds
    loop = execute_owed_periodically(staff.approvals, grace=lease, every=lease / 2)
    return asyncio.create_task(loop, name="owed approvals")


@asynccontextmanager
async def open_runtime(
    settings: Settings, *, model: BaseChatModel | None = None, tracer_provider: TracerProvider | None = None
) -> AsyncIterator[Runtime]:
    """The real runtime (graph, gateway, KB); `model` overrides COPILOT_MODEL, `tracer_provider` receives the
    traces (default: OTLP when COPILOT_OTLP_ENDPOINT is set, else none). Turns are drained on exit."""
    from copilot.agent.boundary import mark_boundary
    from copilot.policy.bell import gateway_policy_doorbell
    from copilot.wiring import open_system

    resolve_secret(settings)  # fail fast (production without a secret) before any heavy work
    provider = tracer_provider or open_provider(settings)
    telemetry = Telemetry(metrics=settings.metrics_enabled, tracer=tracer_of(provider))
    async with open_backplane(settings) as backplane, open_system(settings, model=model) as system:
        observer = TurnObserver(settings, UsageLedger(system.engine), telemetry)
        runner = system.stamper.wrap(system.runner) if system.stamper is not None else system.runner
        runtime = assemble(
            settings,
            runner=observer.wrap(runner),
            decider=system.gateway,
            engine=system.engine,
            facts=system.facts,
            waiting=system.pending_previews,
            boundary=lambda cid, note: mark_boundary(system.graph, cid, note),
            backplane=backplane,
        )
        runtime.staff = open_staff(system, runtime.events)
        runtime.observer = observer
        runtime.prompts = system.prompts
        runtime.telemetry = telemetry if telemetry.enabled else None
        runtime.readiness.probes.extend(system.probes)
        runtime.turns.open()  # recovers turns a dead worker left behind, and runs queued ones
        retaining = _retention_task(settings, runtime, system)
        owing = _owed_task(settings, runtime.staff)
        bell = backplane.doorbell
        async with gateway_policy_doorbell(bell, system.gateway.authorizer, str(system.engine.url)):
            try:
                yield runtime
            finally:
                await runtime.drain()
                await runtime.turns.aclose(settings.drain_seconds)
                await runtime.events.aclose()
                owing.cancel()
                if retaining is not None:
                    retaining.cancel()
                if provider is not None and tracer_provider is None:
                    provider.shutdown()  # flushes the batch exporter
