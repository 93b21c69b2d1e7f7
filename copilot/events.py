"""Wire events of a conversation. Graph nodes emit them (LangGraph stream writer); the event log stores them
with a per-conversation increasing `seq` that becomes the SSE `id`."""

from __future__ import annotations

from typing import Any, Literal, Protocol, TypedDict

EventType = Literal[
    "message.delta",
    "message.completed",
    "tool.requested",
    "tool.denied",
    "tool.invalid",
    "tool.preview",
    "tool.executed",
    "tool.error",
    "handoff.requested",
    "handoff.queued",
    "handoff.claimed",
    "handoff.released",
    "agent.message",
    "message.user",
    "approval.requested",
    "approval.decided",
    "approval.status",
    "assist.answered",
    "turn.started",
    "turn.recovered",
    "turn.completed",
    "feedback.recorded",
    "error",
]


STAFF_ONLY_EVENTS: frozenset[EventType] = frozenset(
    {"approval.requested", "approval.decided", "assist.answered"}
)
"""Sent to staff streams only (a customer's stream skips them)."""


class Event(TypedDict):
    type: EventType
    data: dict[str, Any]


class StoredEvent(TypedDict):
    seq: int
    type: EventType
    turn_id: str | None
    data: dict[str, Any]


class EventSink(Protocol):
    """Where a running turn appends its events (the conversation's durable event log)."""

    async def emit(self, type: EventType, data: dict[str, Any], *, turn_id: str | None = None) -> int:
        """Append one event and return its seq."""
        ...
