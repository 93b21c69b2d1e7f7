"""Turn scheduling: a turn runs as a background asyncio task that outlives the HTTP request,
one turn at a time per conversation. Every turn starts with `turn.started` and ends with `turn.completed`."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from copilot.errors import CopilotError, ErrorCode
from copilot.eventlog import EventLog
from copilot.events import EventSink
from copilot.principal import Principal

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TurnRequest:
    conversation_id: str
    turn_id: str
    principal: Principal
    text: str | None = None
    resume: dict[str, Any] | None = None


TurnRunner = Callable[[TurnRequest, EventSink], Awaitable[None]]
"""Runs one turn (the graph), writing its events to the sink and ending with turn.completed, as
`copilot.agent.runner.run_turn` does. The scheduler emits turn.started before it, and error +
turn.completed {status: failed} if the runner raises."""


class TurnScheduler:
    """Starts turns in the background and refuses a second concurrent turn in the same conversation."""

    def __init__(
        self, events: EventLog, runner: TurnRunner, *, gate: Callable[[str], Awaitable[None]] | None = None
    ) -> None:
        self._events = events
        self._runner = runner
        self._gate = gate
        """Raises (e.g. CONFLICT while a human agent owns the conversation) to refuse a new turn."""
        self._running: dict[str, asyncio.Task[None]] = {}

    def is_running(self, conversation_id: str) -> bool:
        return conversation_id in self._running

    async def start(
        self,
        conversation_id: str,
        principal: Principal,
        *,
        text: str | None = None,
        resume: dict[str, Any] | None = None,
    ) -> str:
        """Schedule a turn and return its id; CONFLICT if one is already running in this conversation
        (or the gate refuses it: a human agent owns the conversation)."""
        if self._gate is not None:
            await self._gate(conversation_id)
        if self.is_running(conversation_id):
            raise CopilotError(
                ErrorCode.CONFLICT,
                "A turn is still running in this conversation; wait for turn.completed on the events stream.",
            )
        request = TurnRequest(conversation_id, f"turn_{uuid.uuid4().hex[:16]}", principal, text, resume)
        task = asyncio.create_task(self._run(request), name=f"turn {request.turn_id}")
        self._running[conversation_id] = task
        task.add_done_callback(lambda _t: self._running.pop(conversation_id, None))
        return request.turn_id

    async def _run(self, request: TurnRequest) -> None:
        sink = self._events.sink(request.conversation_id)
        started: dict[str, Any] = {"by": request.principal.label()}
        if request.text is not None:
            started["text"] = request.text
        if request.resume is not None:
            started["resume"] = request.resume
        await sink.emit("turn.started", started, turn_id=request.turn_id)
        try:
            await self._runner(request, sink)
        except Exception as exc:
            log.exception("turn %s failed", request.turn_id)
            error = (
                exc.to_dict()
                if isinstance(exc, CopilotError)
                else {
                    "code": ErrorCode.INTERNAL.value,
                    "message": "The turn failed; send your message again.",
                }
            )
            await sink.emit("error", error, turn_id=request.turn_id)
            await sink.emit("turn.completed", {"status": "failed"}, turn_id=request.turn_id)

    async def wait_idle(self, conversation_id: str) -> None:
        """Wait until the conversation's running turn (if any) has finished."""
        task = self._running.get(conversation_id)
        if task is not None:
            await asyncio.wait([task])

    async def aclose(self, timeout: float = 30.0) -> None:
        """Let running turns finish (server shutdown); cancel those still running after `timeout`."""
        tasks = list(self._running.values())
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
