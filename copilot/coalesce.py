"""Coalesce streamed token deltas before they reach the event log.

A model streams one `message.delta` per token; appending each one is a durable write and an SSE frame.
`DeltaCoalescer` wraps an `EventSink` and merges consecutive deltas of the same message (same
`message_id`, same turn) into one event, appended when the run is `interval` old (the customer still sees
text stream, a few tokens at a time), when it holds `max_chars`, and always before any other event. So the
log holds the same text, in the same order relative to every other event, in fewer rows.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from copilot.events import EventSink, EventType

log = logging.getLogger(__name__)

_MERGEABLE_KEYS = frozenset({"text", "message_id"})


@dataclass(frozen=True, slots=True)
class FlushPolicy:
    """When buffered deltas are appended (COPILOT_DELTA_FLUSH_MS / COPILOT_DELTA_FLUSH_CHARS)."""

    interval: float = 0.04
    """Seconds after the first buffered delta of a run."""
    max_chars: int = 256
    """Append as soon as the run holds this many characters."""


@dataclass(slots=True)
class _Run:
    """Consecutive deltas of one message, not yet appended."""

    message_id: Any
    turn_id: str | None
    parts: list[str] = field(default_factory=list)
    chars: int = 0

    def accepts(self, data: dict[str, Any], turn_id: str | None) -> bool:
        return data.get("message_id") == self.message_id and turn_id == self.turn_id

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.chars += len(text)

    def data(self) -> dict[str, Any]:
        return {"text": "".join(self.parts), "message_id": self.message_id}


def _mergeable(type: EventType, data: dict[str, Any]) -> bool:
    return type == "message.delta" and set(data) <= _MERGEABLE_KEYS and isinstance(data.get("text"), str)


class DeltaCoalescer:
    """`EventSink` wrapper that merges runs of `message.delta` (see the module docstring).

    `emit` of a buffered delta returns the seq of the last event this wrapper appended (0 before the
    first): its own seq is only known once the run is appended. A failed timed append is raised by the
    next `emit` or `flush`."""

    def __init__(self, inner: EventSink, policy: FlushPolicy | None = None) -> None:
        self._inner = inner
        self._policy = policy or FlushPolicy()
        self._run: _Run | None = None
        self._lock = asyncio.Lock()
        self._timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[None]] = set()
        self._error: BaseException | None = None
        self._last_seq = 0

    async def emit(self, type: EventType, data: dict[str, Any], *, turn_id: str | None = None) -> int:
        async with self._lock:
            self._raise_failed()
            if not _mergeable(type, data):
                await self._flush_locked()
                self._last_seq = await self._inner.emit(type, data, turn_id=turn_id)
                return self._last_seq
            if self._run is not None and not self._run.accepts(data, turn_id):
                await self._flush_locked()
            if self._run is None:
                self._run = _Run(data.get("message_id"), turn_id)
                self._timer = asyncio.get_running_loop().call_later(self._policy.interval, self._on_timer)
            self._run.add(data["text"])
            if self._run.chars >= self._policy.max_chars:
                await self._flush_locked()
            return self._last_seq

    async def flush(self) -> None:
        """Append the buffered run now (and wait for a timed append in flight)."""
        async with self._lock:
            await self._flush_locked()
            self._raise_failed()

    async def _flush_locked(self) -> None:
        run, self._run = self._run, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if run is not None and run.parts:
            self._last_seq = await self._inner.emit("message.delta", run.data(), turn_id=run.turn_id)

    def _raise_failed(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _on_timer(self) -> None:
        self._timer = None
        task = asyncio.get_running_loop().create_task(self._timed_flush())
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _timed_flush(self) -> None:
        async with self._lock:
            try:
                await self._flush_locked()
            except Exception as exc:  # surfaced to the producer by its next emit
                log.warning("timed append of buffered message deltas failed: %r", exc)
                self._error = exc
