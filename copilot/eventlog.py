"""The conversation event log: durable, per-conversation increasing `seq`, and tails that wake immediately.

Appends go to the `events` table in batches (one transaction and one thread hop for every append waiting
at that moment); the seq is assigned as max(seq)+1 inside the transaction, and the batch is retried on
IntegrityError so several processes can share one database. Tails are woken by a `Notifier`: `LocalNotifier`
in-process, or `copilot.doorbell.EventNotifier` over a doorbell (Redis pub/sub across workers); the log stays
the source of truth, a notification only says "read again".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Protocol, cast
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, bindparam, func, insert, select

from copilot.events import EventType, StoredEvent
from copilot.eventwriter import BatchWriter, Committed
from copilot.faults import crash_point
from copilot.store.schema import events

# Built once: constructing a statement costs more than executing it (its cache key is recomputed per build).
_READ_AFTER = (
    select(events.c.seq, events.c.type, events.c.turn_id, events.c.data)
    .where(events.c.conversation_id == bindparam("cid"), events.c.seq > bindparam("after"))
    .order_by(events.c.seq)
    .limit(bindparam("limit"))
)
_LAST_SEQ = select(func.max(events.c.seq)).where(events.c.conversation_id == bindparam("cid"))
_INSERT = insert(events)
READ_LIMIT = 1000


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


class RecentEvents:
    """The last events this process committed, per conversation (bounded; least recently appended
    conversations dropped first). A tail takes the events after its seq from here when the next one is
    here, without a query; anything else (other processes' events, older history) is read from the table.
    An event committed in this process outside the writer is either handed in with `EventLog.committed` (the
    turn queue's turn.started/turn.completed: held like the writer's, in seq order) or only notified
    (`insert_event` + `EventLog.notify`): then the window forgets the conversation, so a run read here never
    ends short of an event that was already notified."""

    def __init__(self, per_conversation: int = 64, conversations: int = 512) -> None:
        self._per_conversation = per_conversation
        self._conversations = conversations
        self._events: OrderedDict[str, list[StoredEvent]] = OrderedDict()
        self._forgets = 0

    def add(self, conversation_id: str, event: StoredEvent) -> None:
        """Hold `event` (kept in seq order whatever order events are added in; a seq held already is kept)."""
        if not self._per_conversation:
            return
        recent = self._events.setdefault(conversation_id, [])
        self._events.move_to_end(conversation_id)
        seq = event["seq"]
        at = len(recent)
        while at and recent[at - 1]["seq"] > seq:  # usually 0 steps: events arrive in order
            at -= 1
        if at and recent[at - 1]["seq"] == seq:
            return
        recent.insert(at, event)
        if len(recent) > self._per_conversation:
            del recent[: len(recent) - self._per_conversation]
        if len(self._events) > self._conversations:
            self._events.popitem(last=False)

    def forget(self, conversation_id: str) -> None:
        self._events.pop(conversation_id, None)
        self._forgets += 1

    def epoch(self) -> int:
        """Changes with every `forget`: a batch that saw it change while being written is not added (the
        forgotten event may come after the batch's)."""
        return self._forgets

    def after(self, conversation_id: str, seq: int) -> tuple[list[StoredEvent], bool] | None:
        """The run of consecutive seqs seq+1, seq+2... held here, and whether later ones are held past a
        gap; None when seq+1 is not held."""
        recent = self._events.get(conversation_id)
        if not recent:
            return None
        start = next((i for i, event in enumerate(recent) if event["seq"] == seq + 1), None)
        if start is None:
            return None
        run = [recent[start]]
        for event in recent[start + 1 :]:
            if event["seq"] != run[-1]["seq"] + 1:
                return run, True
            run.append(event)
        return run, False


class EventLog:
    """Append and read the `events` table; `tail` follows a conversation live.

    Appends are group-committed by one `BatchWriter` per EventLog (copilot/eventwriter.py): every append
    waiting while a transaction runs goes into the next one. `aclose()` commits what is pending and
    refuses later appends."""

    def __init__(self, engine: Engine, notifier: Notifier | None = None) -> None:
        self._engine = engine
        self._notifier: Notifier = notifier or LocalNotifier()
        # The window is trusted only when every wake-up is this process's own: a notifier that also relays
        # other processes' appends (Redis, NOTIFY) could wake a tail for an event the window lacks.
        self._recent = RecentEvents(per_conversation=64 if _in_process(self._notifier) else 0)
        self._writers: WeakKeyDictionary[asyncio.AbstractEventLoop, BatchWriter] = WeakKeyDictionary()
        """One writer per event loop (a server has one; tests may drive a log from several)."""
        self._closed = False

    def sink(self, conversation_id: str) -> ConversationSink:
        """An `EventSink` bound to one conversation (what a running turn writes to)."""
        return ConversationSink(self, conversation_id)

    async def append(
        self, conversation_id: str, type: EventType, data: dict[str, Any], *, turn_id: str | None = None
    ) -> int:
        """Append one event and return its seq (1, 2, 3... per conversation) once it is committed."""
        return await self._writer().append(conversation_id, type, data, turn_id)

    async def aclose(self) -> None:
        """Commit every pending append, then stop (later appends raise RuntimeError)."""
        self._closed = True
        running = asyncio.get_running_loop()
        for loop, writer in list(self._writers.items()):
            writer.refuse()
            if loop is running:  # another loop's writer drains in that loop
                await writer.aclose()

    def stats(self) -> tuple[int, int]:
        """(batches, appends) written so far: appends / batches is the mean batch size."""
        writers = list(self._writers.values())
        return sum(w.batches for w in writers), sum(w.appends for w in writers)

    def _writer(self) -> BatchWriter:
        loop = asyncio.get_running_loop()
        writer = self._writers.get(loop)
        if writer is None:
            if self._closed:
                raise RuntimeError("the event log is closed; no more appends")
            writer = self._writers[loop] = BatchWriter(self._engine, self._committed, self._recent.epoch)
        return writer

    def _committed(self, committed: list[Committed], epoch: object) -> None:
        if epoch == self._recent.epoch():  # else an outbox event was notified meanwhile: maybe after these
            for conversation_id, event in committed:
                self._recent.add(conversation_id, event)
        for conversation_id in dict.fromkeys(cid for cid, _ in committed):
            self._notifier.notify(conversation_id)

    def notify(self, conversation_id: str) -> None:
        """Wake the conversation's tails (after committing `insert_event` in a caller's transaction). That
        event is not in the recent window, so the window stops vouching for the conversation: its tails
        read the table next."""
        self._recent.forget(conversation_id)
        self._notifier.notify(conversation_id)

    def committed(self, conversation_id: str, event: StoredEvent) -> None:
        """Like `notify`, for an event committed outside the writer that the caller holds as stored (its
        data as a read returns it): the window keeps it, so the tails need not read the table for it."""
        self._recent.add(conversation_id, event)
        self._notifier.notify(conversation_id)

    async def read_after(
        self, conversation_id: str, seq: int, *, limit: int = READ_LIMIT
    ) -> list[StoredEvent]:
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
            rows = conn.execute(_READ_AFTER, {"cid": conversation_id, "after": seq, "limit": limit}).all()
        return [
            StoredEvent(seq=row.seq, type=cast(EventType, row.type), turn_id=row.turn_id, data=row.data)
            for row in rows
        ]

    async def tail(
        self, conversation_id: str, after: int = 0, *, follow: bool = True, poll: float | None = None
    ) -> AsyncIterator[StoredEvent]:
        """Yield events after `after` (each seq once, in order); with follow, keep waiting until cancelled.

        The signal is taken before each read, so a notification during the read is not lost; a spurious or
        late one only costs a read (seq > last), and a short batch is not followed by another read. `poll`
        (default: the notifier's `poll_seconds`) bounds the wait when an append was not notified (another
        process without a shared doorbell, a lost ring). With the in-process `LocalNotifier`, events this
        process just committed come from `RecentEvents` (shared objects: consumers must not mutate them).
        """
        last = after
        while True:
            signal = self._notifier.signal(conversation_id)
            recent = self._recent.after(conversation_id, last) if follow else None
            batch, more = recent or (await self.read_after(conversation_id, last, limit=READ_LIMIT), False)
            for event in batch:
                last = event["seq"]
                yield event
            if more or len(batch) == READ_LIMIT:
                continue  # more is committed already
            if not follow:
                return
            with contextlib.suppress(TimeoutError):  # asyncio.timeout: 3.11's wait_for can swallow a cancel
                async with asyncio.timeout(self._notifier.poll_seconds if poll is None else poll):
                    await signal.wait()


def _in_process(notifier: Notifier) -> bool:
    """Does every wake-up come from this process (so the recent window may vouch for a conversation)?"""
    from copilot.doorbell import EventNotifier, LocalDoorbell

    if type(notifier) is EventNotifier:
        return type(notifier.bell) is LocalDoorbell
    return type(notifier) is LocalNotifier


def insert_event(
    conn: Connection, conversation_id: str, type: EventType, data: dict[str, Any], turn_id: str | None = None
) -> int:
    """Append one event inside the caller's transaction and return its seq. A concurrent append of the same
    seq raises IntegrityError: the caller retries its whole transaction, then calls `EventLog.notify`."""
    last = conn.execute(_LAST_SEQ, {"cid": conversation_id}).scalar_one()
    seq = int(last or 0) + 1
    row = {"conversation_id": conversation_id, "seq": seq, "type": type, "turn_id": turn_id, "data": data}
    conn.execute(_INSERT, {**row, "at": datetime.now(UTC)})
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
