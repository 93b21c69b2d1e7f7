"""Around every turn (a TurnRunner wrapper, installed by the runtime): the token budget, usage capture and,
with telemetry on, the turn's root span, its latency metrics and the event-log lag of what it emits.

Over budget — before the turn, or at a model call during it — the customer gets an `error` event with code
budget_exceeded saying a human takes over, and the conversation takes the handoff path
(`handoff.requested {reason: budget_exceeded}`, which the handoff wrapper queues); never a silent failure.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.trace import SpanKind

from copilot.events import EventSink, EventType
from copilot.logs import log_context
from copilot.settings import Settings
from copilot.telemetry import Telemetry, metrics, using
from copilot.telemetry.callbacks import watching
from copilot.telemetry.tracing import identified, link_to, span
from copilot.telemetry.usage import TurnUsage, UsageLedger, UsageWriter, budget_of
from copilot.turns.request import TurnRequest, TurnRunner, TurnStatus

log = logging.getLogger(__name__)


class _ObservedSink:
    """Times each append (emit → committed) and remembers when the first answer text went out."""

    def __init__(self, inner: EventSink, started: float, metering: bool) -> None:
        self._inner, self._started, self._metering = inner, started, metering
        self.first_token: float | None = None

    async def emit(self, type: EventType, data: dict[str, Any], *, turn_id: str | None = None) -> int:
        began = time.perf_counter()
        seq = await self._inner.emit(type, data, turn_id=turn_id)
        if self._metering:
            metrics.child(metrics.EVENT_APPEND, type).observe(time.perf_counter() - began)
        if type == "message.delta" and self.first_token is None:
            self.first_token = began - self._started
        return seq


def _queue_wait(request: TurnRequest) -> float | None:
    if request.queued_at is None or request.recovered:
        return None
    queued = request.queued_at if request.queued_at.tzinfo else request.queued_at.replace(tzinfo=UTC)
    return max((datetime.now(UTC) - queued).total_seconds(), 0.0)


class TurnObserver:
    def __init__(self, settings: Settings, ledger: UsageLedger, telemetry: Telemetry | None) -> None:
        self._settings = settings
        self._ledger = ledger
        self._telemetry = telemetry if telemetry is not None and telemetry.enabled else None

    def wrap(self, runner: TurnRunner) -> TurnRunner:
        async def run(request: TurnRequest, sink: EventSink) -> TurnStatus:
            usage = await self._usage(request.principal.tenant, request.conversation_id, request.turn_id)
            context = log_context(
                tenant=request.principal.tenant,
                conversation_id=request.conversation_id,
                turn_id=request.turn_id,
            )
            with using(self._telemetry), watching(usage), context:
                return await self._observed(runner, request, sink, usage)

        return run

    @asynccontextmanager
    async def metered(self, tenant: str, conversation_id: str | None) -> AsyncIterator[TurnUsage]:
        """Model calls outside turns (agent assist drafts, staff assist questions): recorded in `model_usage`
        (turn_id NULL) and refused over the tenant's budget, like a turn's; metrics and spans come from the
        request's telemetry context."""
        usage = await self._usage(tenant, conversation_id, None)
        with watching(usage), log_context(tenant=tenant, conversation_id=conversation_id):
            try:
                yield usage
            finally:
                await self._record(usage)

    async def _usage(self, tenant: str, conversation_id: str | None, turn_id: str | None) -> TurnUsage:
        usage = TurnUsage(tenant, conversation_id, turn_id, self._settings.prices)
        usage.written = UsageWriter(self._ledger)
        budget = budget_of(self._settings, tenant)
        if budget is not None:
            used = await asyncio.to_thread(self._ledger.used, tenant, budget.start(datetime.now(UTC)))
            usage.budget, usage.remaining = budget, budget.limit - used
        return usage

    async def _observed(
        self, runner: TurnRunner, request: TurnRequest, sink: EventSink, usage: TurnUsage
    ) -> TurnStatus:
        started = time.perf_counter()
        metering = self._telemetry is not None and self._telemetry.metrics
        observed = _ObservedSink(sink, started, metering)
        attributes = {"copilot.turn.kind": "resume" if request.resume else "message",
                      "copilot.turn.attempt": request.attempt, "copilot.tenant": request.principal.tenant}  # fmt: skip
        root = otel_context.Context()  # a new trace per turn, linked to the request that queued it
        with (
            span(
                "turn", attributes, kind=SpanKind.CONSUMER, links=link_to(request.traceparent), context=root
            ) as s,
            nullcontext() if s is not None else identified(fresh=True),  # audit rows still get a trace id
        ):
            try:
                status = await self._play(runner, request, observed, usage)
            finally:
                await self._record(usage)
            if s is not None:
                s.set_attribute("copilot.turn.status", status)
            elapsed = time.perf_counter() - started
            log.info("turn %s: %s in %.0f ms", request.turn_id, status, elapsed * 1000,
                     extra={"event": "turn.finished", "status": status, "attempt": request.attempt})  # fmt: skip
        if metering:
            self._measure(request, status, elapsed, observed.first_token)
        return status

    async def _play(
        self, runner: TurnRunner, request: TurnRequest, sink: EventSink, usage: TurnUsage
    ) -> TurnStatus:
        if usage.remaining is not None and usage.remaining <= 0 and usage.budget is not None:
            usage.over_budget = True
            await sink.emit("error", usage.budget.exceeded().to_dict(), turn_id=request.turn_id)
        else:
            status = await runner(request, sink)  # a refused model call emits the error itself
            if not usage.over_budget:
                return status
        summary = "The model token budget is used up; the assistant cannot answer until it renews."
        data = {"reason": "budget_exceeded", "summary": summary}
        await sink.emit("handoff.requested", data, turn_id=request.turn_id)
        return "handoff"

    @staticmethod
    async def _record(usage: TurnUsage) -> None:
        """Each call's row is written when the call ends; this waits for those writes (and retries failures)."""
        if usage.written is not None:
            await usage.written.flush(usage)

    @staticmethod
    def _measure(request: TurnRequest, status: TurnStatus, duration: float, first: float | None) -> None:
        metrics.child(metrics.TURN_DURATION, status).observe(duration)
        if first is not None:
            metrics.child(metrics.TURN_FIRST_TOKEN, status).observe(first)
        wait = _queue_wait(request)
        if wait is not None:
            metrics.child(metrics.QUEUE_WAIT, "resume" if request.resume else "message").observe(wait)
