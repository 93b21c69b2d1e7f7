"""The conversation event log: durable, per-conversation increasing `seq`, and tails that wake immediately.

Appends go to the `events` table; the seq is assigned as max(seq)+1 inside a transaction under a
per-conversation lock, retried on IntegrityError so several processes can share one database. Tails are
woken by a `Notifier`: `LocalNotifier` in-process, or `copilot.doorbell.EventNotifier` over a doorbell (Redis
pub/sub across workers); the log stays the source of truth, a notification only says "read again".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from copilot.events import EventType, StoredEvent
from copilot.faults import crash_point
from copilot.store.schema import events

_APPEND_RETRIES = 8


class Notifier(Protocol):
    """Wakes tails of a conversation when an event was appended."""

    def notify(self, conversation_id: str) -> None: ...

    def signal(self, conversation_id: str) -> asyncio.Event:
        """An event that will be set by the next notify(); take it before reading the log."""
        ...

    @property
    def poll_seconds(self) -> float:
        """How long a tail may wait before re-reading the log (appends nobody notified it of)."""
        ...


class LocalNotifier:
    """In-process broadcast: one asyncio.Event per conversation, swapped out on every notify."""

    def __init__(self, poll_seconds: float = 5.0) -> None:
        self._signals: dict[str, asyncio.Event] = {}
        self.poll_seconds = poll_seconds

    def notify(self, conversation_id: str) -> None:
        signal = self._signals.pop(conversation_id, None)
        if signal is not None:
            signal.set()

    def signal(self, conversation_id: str) -> asyncio.Event:
        return self._signals.setdefault(conversation_id, asyncio.Event())


class EventLog:
    """Append and read the `events` table; `tail` follows a conversation live."""

    def __init__(self, engine: Engine, notifier: Notifier | None = None) -> None:
        self._engine = engine
        self._notifier: Notifier = notifier or LocalNotifier()
        self._locks: dict[str, asyncio.Lock] = {}

    def sink(self, conversation_id: str) -> ConversationSink:
        """An `EventSink` bound to one conversation (what a running turn writes to)."""
        return ConversationSink(self, conversation_id)

    async def append(
        self, conversation_id: str, type: EventType, data: dict[str, Any], *, turn_id: str | None = None
    ) -> int:
        """Append one event and return its seq (1, 2, 3... per conversation)."""
        lock = self._locks.setdefault(conversation_id, asyncio.Lock())
        async with lock:
            seq = await asyncio.to_thread(self._insert, conversation_id, type, data, turn_id)
        self._notifier.notify(conversation_id)
        return seq

    def _insert(
        self, conversation_id: str, type: EventType, data: dict[str, Any], turn_id: str | None
    ) -> int:
        for _ in range(_APPEND_RETRIES):
            try:
                with self._engine.begin() as conn:
                    return insert_event(conn, conversation_id, type, data, turn_id)
            except IntegrityError:
                continue
        raise RuntimeError(f"could not append to the event log of {conversation_id}: seq contention")

    def notify(self, conversation_id: str) -> None:
        """Wake the conversation's tails (after committing `insert_event` in a caller's transaction)."""
        self._notifier.notify(conversation_id)

    async def read_after(self, conversation_id: str, seq: int, *, limit: int = 1000) -> list[StoredEvent]:
        """Events with seq > `seq`, oldest first."""
        return await asyncio.to_thread(self._select, conversation_id, seq, limit)

    async def read_all(self, conversation_id: str) -> list[StoredEvent]:
        """Every event of the conversation, oldest first."""
        out: list[StoredEvent] = []
        while batch := await self.read_after(conversation_id, out[-1]["seq"] if out else 0):
            out.extend(batch)
        return out

    def _select(self, conversation_id: str, seq: int, limit: int) -> list[StoredEvent]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(events.c.seq, events.c.type, events.c.turn_id, events.c.data)
                .where(events.c.conversation_id == conversation_id, events.c.seq > seq)
                .order_by(events.c.seq)
                .limit(limit)
            ).all()
        return [
            StoredEvent(seq=row.seq, type=cast(EventType, row.type), turn_id=row.turn_id, data=row.data)
            for row in rows
        ]

    async def tail(
        self, conversation_id: str, after: int = 0, *, follow: bool = True, poll: float | None = None
    ) -> AsyncIterator[StoredEvent]:
        """Yield events after `after` (each seq once, in order); with follow, keep waiting until cancelled.

        The signal is taken before each read, so a notification during the read is not lost; a spurious or
        late one only costs a read (seq > last). `poll` (default: the notifier's `poll_seconds`) bounds the
        wait when an append was not notified (another process without a shared doorbell, a lost ring).
        """
        last = after
        while True:
            signal = self._notifier.signal(conversation_id)
            batch = await self.read_after(conversation_id, last)
            for event in batch:
                last = event["seq"]
                yield event
            if batch:
                continue
            if not follow:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    signal.wait(), timeout=self._notifier.poll_seconds if poll is None else poll
                )


def insert_event(
    conn: Connection, conversation_id: str, type: EventType, data: dict[str, Any], turn_id: str | None = None
) -> int:
    """Append one event inside the caller's transaction and return its seq. A concurrent append of the same
    seq raises IntegrityError: the caller retries its whole transaction, then calls `EventLog.notify`."""
    last = conn.execute(
        select(func.max(events.c.seq)).where(events.c.conversation_id == conversation_id)
    ).scalar_one()
    seq = int(last or 0) + 1
    conn.execute(
        insert(events).values(
            conversation_id=conversation_id,
            seq=seq,
            type=type,
            turn_id=turn_id,
            data=data,
            at=datetime.now(UTC),
        )
    )
    return seq


class ConversationSink:
    """`copilot.events.EventSink` for one conversation."""

    def __init__(self, log: EventLog, conversation_id: str) -> None:
        self._log = log
        self.conversation_id = conversation_id

    async def emit(self, type: EventType, data: dict[str, Any], *, turn_id: str | None = None) -> int:
        seq = await self._log.append(self.conversation_id, type, data, turn_id=turn_id)
        crash_point(f"event.{type}")
        return seq
