"""Nodes emit wire events through LangGraph's stream writer as {"type": EventType, "data": {...}}."""

from __future__ import annotations

from typing import Any

from langgraph.config import get_stream_writer

from copilot.events import Event, EventType


def emit(type_: EventType, data: dict[str, Any]) -> None:
    """Emit one custom event (a no-op when the run does not stream "custom")."""
    event: Event = {"type": type_, "data": data}
    get_stream_writer()(event)
