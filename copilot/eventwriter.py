"""Group commit for the event log: one writer task drains every pending append into one transaction.

`append` queues the event and awaits its commit. While no batch is being written, the first append starts
the writer task; the task takes everything queued, writes it in one transaction on a worker thread (one
thread hop per batch, one executemany), resolves each caller's future with its seq, then takes what queued
meanwhile, and ends when nothing is left. So an idle log holds no task, and a busy one commits as often as
the database allows, each commit carrying every append that waited for it.

Seqs: the batch reads max(seq) once per conversation (one grouped query) and numbers its events of that
conversation contiguously from there, in queue order. Nothing is cached between batches: another process
may have appended in between. If one did so concurrently, the (conversation_id, seq) primary key refuses
the insert (IntegrityError) and the whole batch is rolled back and retried from fresh max(seq) reads, so
seqs stay unique and contiguous whichever process wins. An event the database refuses for itself (bad
data) is isolated: the batch is retried one event per transaction so only its caller gets the error. A
database that is down fails the whole batch; every caller gets the exception. An append is acknowledged
(its future resolved) only after its transaction committed.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from copilot.events import EventType, StoredEvent
from copilot.store.schema import events

RETRIES = 8
"""Attempts per transaction when another writer takes the same seq."""

# Built once: constructing a statement costs more than executing it (its cache key is recomputed per build).
_LAST_SEQS = (
    select(events.c.conversation_id, func.max(events.c.seq))
    .where(events.c.conversation_id.in_(bindparam("ids", expanding=True)))
    .group_by(events.c.conversation_id)
)
_LAST_SEQ = select(func.max(events.c.seq)).where(events.c.conversation_id == bindparam("cid"))
_INSERT = insert(events)


@dataclass(slots=True)
class PendingAppend:
    conversation_id: str
    type: EventType
    data: dict[str, Any]
    turn_id: str | None
    at: datetime
    done: asyncio.Future[int]


Outcome = int | BaseException


Committed = tuple[str, StoredEvent]
"""(conversation_id, the event as stored: its data round-tripped through JSON like a read would return)."""


class BatchWriter:
    """Queue + one writer task per event log (per process); `on_commit(events, token)` runs in the event
    loop after each batch with the events it committed (it wakes the tails) and what `on_batch()` returned
    when the batch started."""

    def __init__(
        self,
        engine: Engine,
        on_commit: Callable[[list[Committed], object], None],
        on_batch: Callable[[], object] = lambda: None,
    ) -> None:
        self._engine = engine
        self._on_commit = on_commit
        self._on_batch = on_batch
        """Called as a batch starts; its value is passed to `on_commit` with the batch's events."""
        self._queue: list[PendingAppend] = []
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.batches = 0
        """Committed (or failed) batches so far: with `appends`, the mean batch size."""
        self.appends = 0

    async def append(
        self, conversation_id: str, type: EventType, data: dict[str, Any], turn_id: str | None
    ) -> int:
        if self._closed:
            raise RuntimeError("the event log is closed; no more appends")
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queue.append(PendingAppend(conversation_id, type, data, turn_id, datetime.now(UTC), done))
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain(), name="event log writer")
        return await done

    def refuse(self) -> None:
        """Refuse new appends (RuntimeError); what is queued is still written."""
        self._closed = True

    async def aclose(self) -> None:
        """Refuse new appends, then wait until everything already queued is committed."""
        self._closed = True
        while self._task is not None:
            await asyncio.shield(self._task)

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                await self._write(batch)
        finally:
            self._task = None
            for item in self._queue:  # only when the task itself was cancelled (loop shutdown)
                _settle(item, RuntimeError("the event log writer stopped before this append"))

    async def _write(self, batch: list[PendingAppend]) -> None:
        self.batches += 1
        self.appends += len(batch)
        committed: list[Committed] = []
        token = self._on_batch()
        try:
            outcomes, committed = await asyncio.to_thread(_write_and_copy, self._engine, batch)
        except Exception as exc:  # the database failed the whole batch: every caller gets the error
            outcomes = [exc] * len(batch)
        except BaseException:  # cancelled (loop shutdown): the thread may still commit the batch
            for item in batch:
                _settle(item, RuntimeError("the event log writer was cancelled during this append"))
            raise
        for item, outcome in zip(batch, outcomes, strict=True):
            _settle(item, outcome)
        self._on_commit(committed, token)


def _settle(item: PendingAppend, outcome: Outcome) -> None:
    if item.done.done():  # the caller stopped waiting (cancelled); a committed row stays committed
        return
    if isinstance(outcome, BaseException):
        item.done.set_exception(outcome)
    else:
        item.done.set_result(outcome)


def _write_and_copy(engine: Engine, batch: Sequence[PendingAppend]) -> tuple[list[Outcome], list[Committed]]:
    outcomes = write_batch(engine, batch)
    committed: list[Committed] = []
    for item, outcome in zip(batch, outcomes, strict=True):
        if isinstance(outcome, int):
            data = json.loads(json.dumps(item.data))
            committed.append(
                (
                    item.conversation_id,
                    StoredEvent(seq=outcome, type=item.type, turn_id=item.turn_id, data=data),
                )
            )
    return outcomes, committed


def write_batch(engine: Engine, batch: Sequence[PendingAppend]) -> list[Outcome]:
    """Commit the batch in one transaction (retried on seq conflicts); isolate events the database refuses."""
    try:
        return list(_with_retries(engine, batch))
    except (OperationalError, InterfaceError):
        raise  # the database itself failed: every caller gets it
    except Exception:
        if len(batch) == 1:
            raise
    return [_write_one(engine, item) for item in batch]


def _write_one(engine: Engine, item: PendingAppend) -> Outcome:
    try:
        return _with_retries(engine, [item])[0]
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        return exc


def _with_retries(engine: Engine, batch: Sequence[PendingAppend]) -> list[int]:
    for attempt in range(RETRIES):
        try:
            with engine.begin() as conn:
                return insert_batch(conn, batch)
        except IntegrityError as exc:
            if attempt == RETRIES - 1:
                conversations = sorted({item.conversation_id for item in batch})
                raise RuntimeError(f"could not append to the event log of {conversations}") from exc
            time.sleep(random.uniform(0, 0.002 * attempt))  # another writer is busy: let it finish
    raise AssertionError("unreachable")


def insert_batch(conn: Connection, batch: Sequence[PendingAppend]) -> list[int]:
    """Insert the batch with contiguous seqs per conversation after its current max(seq); return them."""
    ids = sorted({item.conversation_id for item in batch})
    if len(ids) == 1:  # the common case of a quiet log; an expanding IN is rendered per execution
        seq = conn.execute(_LAST_SEQ, {"cid": ids[0]}).scalar_one()
        last = {ids[0]: int(seq)} if seq is not None else {}
    else:
        last = {cid: int(seq) for cid, seq in conn.execute(_LAST_SEQS, {"ids": ids})}
    seqs: list[int] = []
    values: list[dict[str, Any]] = []
    for item in batch:
        seq = last[item.conversation_id] = last.get(item.conversation_id, 0) + 1
        seqs.append(seq)
        values.append(
            {
                "conversation_id": item.conversation_id,
                "seq": seq,
                "type": item.type,
                "turn_id": item.turn_id,
                "data": item.data,
                "at": item.at,
            }
        )
    conn.execute(_INSERT, values)
    return seqs
