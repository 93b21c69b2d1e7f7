"""Stamping turns: `TurnStamper.wrap` resolves the tenant's published prompt version and active policy version
when a turn starts (one connection, two indexed reads), holds them for the turn (copilot/prompts/stamp.py) and
writes the turn's own audit record (tool `(turn)`) when it ends, naming the prompt version, the model and the
policy version. The model is the one that made the turn's latest call (the usage callback reports each call: a
fallback that answered is named, not the primary), else the configured one."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable

from sqlalchemy import Connection, Engine

from copilot.events import EventSink
from copilot.gateway.audit import TURN_TOOL, AuditEntry, AuditLog
from copilot.llm.offline import OFFLINE_NAME
from copilot.prompts.service import PromptRegistry
from copilot.prompts.stamp import TurnStamp, stamping
from copilot.turns.request import TurnRequest, TurnRunner, TurnStatus

log = logging.getLogger(__name__)
PolicyStamp = Callable[[str, Connection], int | None]
"""(tenant, conn) → the tenant's active policy version (None: it has none)."""


def model_label(spec: str) -> str:
    """COPILOT_MODEL as provider:model, as the usage callback names a call (`offline` is the offline model)."""
    spec = spec.strip().split("@", 1)[0]
    name = OFFLINE_NAME if spec == "offline" else spec
    return name if ":" in name else f"{name}:{name}"


class TurnStamper:
    def __init__(
        self, engine: Engine, registry: PromptRegistry, policy: PolicyStamp, audit: AuditLog, model: str
    ) -> None:
        self._engine, self._registry, self._policy, self._audit = engine, registry, policy, audit
        self._model = model

    def begin(self, request: TurnRequest) -> TurnStamp:
        tenant = request.principal.tenant
        with self._engine.connect() as conn:
            prompts = self._registry.current(tenant, conn)
            policy = self._policy(tenant, conn)
        return TurnStamp(request.turn_id, prompts, f"v{policy}" if policy else "none", self._model)

    def record(self, request: TurnRequest, stamp: TurnStamp, status: TurnStatus, seconds: float) -> None:
        arguments = {"status": status, "attempt": request.attempt, "kind": "resume" if request.resume else "message",
                     "models": list(dict.fromkeys(stamp.models))}  # fmt: skip
        entry = AuditEntry(
            decision_id=f"turn_{uuid.uuid4().hex[:16]}", principal=request.principal, tool=TURN_TOOL,
            arguments=arguments, outcome=status, policy_version=stamp.policy_version, latency_ms=seconds * 1000,
            conversation_id=request.conversation_id,
        )  # fmt: skip
        self._audit.record(entry)

    def wrap(self, runner: TurnRunner) -> TurnRunner:
        async def run(request: TurnRequest, sink: EventSink) -> TurnStatus:
            started = time.perf_counter()
            stamp = await asyncio.to_thread(self.begin, request)
            status: TurnStatus = "failed"
            with stamping(stamp):
                try:
                    status = await runner(request, sink)
                finally:
                    try:  # inside the stamp (and the turn's trace): the record names them
                        seconds = time.perf_counter() - started
                        await asyncio.to_thread(self.record, request, stamp, status, seconds)
                    except Exception:  # the turn's answer stands; its record is what is lost (logged)
                        log.exception("could not write the audit record of turn %s", request.turn_id)
            return status

        return run
