"""What a turn is: its request (persisted as a `turns` row), its outcome, and the runner that plays it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from copilot.events import EventSink
from copilot.principal import Principal

TurnStatus = Literal["completed", "awaiting_confirmation", "handoff", "failed", "cancelled"]


def new_turn_id() -> str:
    return f"turn_{uuid.uuid4().hex[:16]}"


def confirmed_change(resume: dict[str, Any] | None) -> bool:
    """The turn executes a write the human confirmed (a resume with approved: true): a commitment that a
    cancel keeps (issue 7: a 202 means the write runs exactly once, or is reported as not done)."""
    return isinstance(resume, dict) and resume.get("approved") is True


@dataclass(frozen=True, slots=True)
class TurnRequest:
    conversation_id: str
    turn_id: str
    principal: Principal
    text: str | None = None
    resume: dict[str, Any] | None = None
    attempt: int = 1
    """1 for the first run; more when a worker recovers the turn after its previous worker died."""
    queued_at: datetime | None = None
    """When the turn was accepted (the 202)."""
    traceparent: str | None = None
    """W3C trace context of the request that queued it (the turn's trace links to it)."""
    unowned: bool = False
    """Claimed in the transaction that queued it, which also found no human owning the conversation (not
    persisted: a turn claimed later, from the table, is checked again before it runs)."""
    may_answer: Callable[[], Awaitable[bool]] | None = None
    """Asked after a confirmed write, before the model answers: False when a human took the conversation
    meanwhile, so the turn ends there (status handoff) and the bot writes nothing into it (not persisted)."""

    @property
    def recovered(self) -> bool:
        return self.attempt > 1


TurnRunner = Callable[[TurnRequest, EventSink], Awaitable[TurnStatus]]
"""Plays one turn (the graph), writing its events to the sink, and returns its outcome; the scheduler writes
turn.started before it and turn.completed {status} after it (in the transaction that finishes the job). On a
recovered request (`attempt > 1`) it continues from the graph's last checkpoint. If it raises, the scheduler
writes error + turn.completed {status: failed}."""
