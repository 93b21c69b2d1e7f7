"""The durable turn queue: one row per turn in the `turns` table, shared by every worker and process.

A turn is queued by `enqueue` (on the caller's connection when given: a confirmation commits its decision and
its resume job together), taken by `claim` under a lease that `renew` extends, and ended by `finish`, which
writes turn.completed in the same transaction. A running turn whose lease expired (its worker died) is claimed
again with attempt + 1; after `max_attempts` it ends as failed with an error the customer understands. One
turn runs per conversation at a time (the unique `running` column holds the conversation id), and the queued
turns of a conversation run in the order they were accepted. All of it is compare-and-set SQL, the same on
SQLite and Postgres.

Fast paths (one transaction where the general path takes two or three): `submit` queues a turn and, when its
conversation has nothing queued or running, claims it for the submitting worker in the same INSERT (so a new
message never waits for a claim loop); `finish(..., take_next=True)` ends a turn and claims its conversation's
next queued turn in the same transaction. A cancel marks the conversation's queued turns as well as its
running one; claiming a marked queued turn writes its turn.started and turn.completed {cancelled} together,
so it never runs and still ends as every started turn does. Statements are built once (building one costs more than running it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import IntegrityError

from copilot.errors import ErrorCode
from copilot.eventlog import insert_event
from copilot.events import EventType, StoredEvent
from copilot.principal import Principal
from copilot.store.schema import turns
from copilot.turns.request import TurnRequest, TurnStatus, confirmed_change
from copilot.turns.statements import (
    ACTIVE,
    CANCELLED_HEADS,
    EXPIRED,
    HEADS,
    INSERT,
    LOAD,
    NEW_COLUMNS,
    NEXT,
    QUEUED_OR_RUNNING,
    START,
    claim_new,
)

_RETRIES = 5
T = TypeVar("T")
GAVE_UP = (
    "The assistant was interrupted several times while working on this and stopped. Nothing else will "
    "happen for this message; send it again or ask for a human agent."
)


def _now() -> datetime:
    return datetime.now(UTC)


def _stored(seq: int, type: EventType, turn_id: str, data: dict[str, Any]) -> StoredEvent:
    """An event as a read of the table returns it (its data round-tripped through JSON)."""
    return StoredEvent(seq=seq, type=type, turn_id=turn_id, data=json.loads(json.dumps(data)))


@dataclass(frozen=True, slots=True)
class Claimed:
    request: TurnRequest
    started: StoredEvent
    """The turn.started (first attempt) or turn.recovered event written with the claim."""

    ended: StoredEvent | None = None
    """turn.completed {cancelled}, written in the same claim: the turn was cancelled while it was queued, so
    it ends at once and never runs (the worker only publishes both events)."""

    @property
    def started_seq(self) -> int:
        return self.started["seq"]


@dataclass(frozen=True, slots=True)
class CancelRequested:
    """What a cancel marked: the conversation's running turn and its queued ones (each still ends with
    turn.started + turn.completed {cancelled} when a worker claims it, without running), and what it kept:
    turns that execute a confirmed change, which run to their end."""

    running: list[str]
    queued: list[str]
    kept: list[str] = field(default_factory=list)

    @property
    def turn_ids(self) -> list[str]:
        return self.running + self.queued


@dataclass(frozen=True, slots=True)
class Finished:
    completed: StoredEvent | None
    """The turn.completed written with the job's end; None if the worker had lost the turn to another."""
    next: Claimed | None = None
    """The conversation's next queued turn, claimed in the same transaction (`take_next`)."""


def _principal(data: dict[str, Any]) -> Principal:
    return Principal(tenant=data["tenant"], role=data["role"], user_id=data["user_id"])


def _request(row: Any) -> TurnRequest:
    return TurnRequest(
        conversation_id=row.conversation_id, turn_id=row.turn_id, principal=_principal(row.principal),
        text=row.text, resume=row.resume, attempt=row.attempts, queued_at=row.created_at,
        traceparent=row.traceparent,
    )  # fmt: skip


def started_data(request: TurnRequest) -> dict[str, Any]:
    data: dict[str, Any] = {"by": request.principal.label()}
    if request.text is not None:
        data["text"] = request.text
    if request.resume is not None:
        data["resume"] = request.resume
    return data


class TurnQueue:
    def __init__(self, engine: Engine, *, lease: timedelta, max_attempts: int = 3) -> None:
        self.engine = engine
        self.lease = lease
        self.max_attempts = max_attempts
        self._claim_new = claim_new(engine.dialect.name)
        self.serialised = engine.dialect.name == "sqlite"
        """Writers are serialised (SQLite): a `submit` and a `finish` of one conversation never interleave, so
        a finish that found no next turn has nothing to announce."""

    # -- producers ------------------------------------------------------------------------------------
    def enqueue(self, request: TurnRequest, conn: Connection | None = None) -> None:
        """Persist a queued turn; on `conn`, inside the caller's transaction (committed with it)."""
        if conn is not None:
            conn.execute(INSERT, _row(request))
            return
        with self.engine.begin() as own:
            own.execute(INSERT, _row(request))

    def submit(
        self, request: TurnRequest, worker: str | None, also: Callable[[Connection], None] | None = None
    ) -> Claimed | None:
        """Queue a turn in one transaction with `also(conn)`; with `worker`, claim it for that worker at once
        when its conversation has no turn queued or running (turn.started commits with it). None: queued."""
        return self._retrying(partial(self._submit, request, worker, also), final=True)

    # -- workers --------------------------------------------------------------------------------------
    def claim(self, worker: str, limit: int, *, recover: bool = True) -> list[Claimed]:
        """Up to `limit` turns for `worker`: expired ones first (recovery, unless `recover` is False), then the
        oldest queued turn of every conversation that has none running."""
        claimed: list[Claimed] = []
        for turn_id in self._expired(limit) if recover else []:
            if (got := self._retrying(partial(self._recover, turn_id, worker))) is not None:
                claimed.append(got)
        for turn_id, cid in self._heads(limit - len(claimed)):
            if (got := self._retrying(partial(self._start_one, turn_id, cid, worker))) is not None:
                claimed.append(got)
        return claimed

    def claim_cancelled(self, worker: str, limit: int) -> list[Claimed]:
        """Queued turns cancelled before they ran (and next in their conversation), claimed and ended at once
        (`Claimed.ended`): a worker with no room for turns still ends these, as they run nothing."""
        with self.engine.connect() as conn:
            heads = [(r.turn_id, r.conversation_id) for r in conn.execute(CANCELLED_HEADS, {"limit": limit})]
        claimed = []
        for turn_id, cid in heads:
            if (got := self._retrying(partial(self._start_one, turn_id, cid, worker))) is not None:
                claimed.append(got)
        return claimed

    def renew(self, worker: str, turn_ids: Iterable[str]) -> set[str]:
        """Extend the leases of `worker`'s running turns; return the ids it no longer owns."""
        ids = set(turn_ids)
        if not ids:
            return set()
        mine = (turns.c.turn_id.in_(ids)) & (turns.c.worker == worker) & (turns.c.status == "running")
        with self.engine.begin() as conn:
            conn.execute(update(turns).where(mine).values(lease_until=_now() + self.lease))
            owned = set(conn.execute(select(turns.c.turn_id).where(mine)).scalars())
        return ids - owned

    def release(self, worker: str, turn_ids: Iterable[str]) -> None:
        """Give running turns back (a draining worker): their leases end now, so any worker recovers them."""
        ids = set(turn_ids)
        if ids:
            mine = (turns.c.turn_id.in_(ids)) & (turns.c.worker == worker) & (turns.c.status == "running")
            with self.engine.begin() as conn:
                conn.execute(update(turns).where(mine).values(lease_until=_now() - timedelta(seconds=1)))

    def finish(
        self, request: TurnRequest, worker: str, status: TurnStatus, *, take_next: bool = False
    ) -> Finished:
        """End the turn with turn.completed {status}, atomically (`completed` None if `worker` lost it to
        another); with `take_next`, claim the conversation's next queued turn in the same transaction."""
        step = partial(self._finish, request, worker, status, take_next)
        return self._retrying(step) or Finished(None)

    def request_cancel(self, conversation_id: str) -> CancelRequested:
        """Mark the conversation's running and queued turns for cancellation: the running one's worker stops
        it (a recovery of it ends it so), and a claim of a queued one ends it at once; each writes
        turn.completed {cancelled}. A turn that executes a confirmed change is not marked (`kept`): it runs
        to its end, so the confirmed write happens exactly once. Returns the marked and the kept turn ids."""
        active = (turns.c.conversation_id == conversation_id) & turns.c.status.in_(QUEUED_OR_RUNNING)
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(turns.c.turn_id, turns.c.status, turns.c.resume)
                .where(active)
                .order_by(turns.c.created_at)
            ).all()
            marked = [row for row in rows if not confirmed_change(row.resume)]
            if marked:
                ids = [row.turn_id for row in marked]
                conn.execute(
                    update(turns).where(active, turns.c.turn_id.in_(ids)).values(cancel_requested_at=_now())
                )
        return CancelRequested(
            running=[r.turn_id for r in marked if r.status == "running"],
            queued=[r.turn_id for r in marked if r.status == "queued"],
            kept=[r.turn_id for r in rows if confirmed_change(r.resume)],
        )

    def cancel_requested(self, worker: str, turn_ids: Iterable[str]) -> set[str]:
        """Which of `worker`'s running turns were asked to stop."""
        ids = set(turn_ids)
        if not ids:
            return set()
        marked = (
            (turns.c.turn_id.in_(ids)) & (turns.c.worker == worker) & turns.c.cancel_requested_at.is_not(None)
        )
        with self.engine.connect() as conn:
            return set(conn.execute(select(turns.c.turn_id).where(marked)).scalars())

    def active(self, conversation_id: str) -> bool:
        """A turn of the conversation is queued or running."""
        with self.engine.connect() as conn:
            return conn.execute(ACTIVE, {"cid": conversation_id}).first() is not None

    # -- transactions -----------------------------------------------------------------------------------
    @staticmethod
    def _retrying(step: Callable[[], T], *, final: bool = False) -> T | None:
        """Run one transaction again when a concurrent event append took its seq (IntegrityError); `final`:
        the last attempt's error propagates instead of None."""
        for attempt in range(_RETRIES):
            try:
                return step()
            except IntegrityError:
                if final and attempt == _RETRIES - 1:
                    raise
        return None

    def _submit(
        self, request: TurnRequest, worker: str | None, also: Callable[[Connection], None] | None
    ) -> Claimed | None:
        with self.engine.begin() as conn:
            if also is not None:
                also(conn)
            if worker is not None:
                lease = _now() + self.lease
                running = {"status": "running", "running": request.conversation_id, "worker": worker,
                           "lease_until": lease, "attempts": 1}  # fmt: skip
                row = {**_row(request), **running}
                if conn.execute(self._claim_new, {f"n_{c}": row[c] for c in NEW_COLUMNS}).first() is not None:
                    return _started(conn, replace(request, queued_at=row["created_at"]))
            conn.execute(INSERT, _row(request))
        return None

    def _expired(self, limit: int) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(EXPIRED, {"now": _now(), "limit": limit}).scalars())

    def _heads(self, limit: int) -> list[tuple[str, str]]:
        if limit <= 0:
            return []
        with self.engine.connect() as conn:
            return [(row.turn_id, row.conversation_id) for row in conn.execute(HEADS, {"limit": limit})]

    def _start_one(self, turn_id: str, conversation_id: str, worker: str) -> Claimed | None:
        with self.engine.begin() as conn:
            return self._start(conn, turn_id, conversation_id, worker)

    def _start(self, conn: Connection, turn_id: str, conversation_id: str, worker: str) -> Claimed | None:
        params = {
            "tid": turn_id,
            "p_cid": conversation_id,
            "p_worker": worker,
            "p_lease": _now() + self.lease,
        }
        if conn.execute(START, params).rowcount != 1:
            return None
        claimed = _started(conn, self._load(conn, turn_id))
        if self._cancel_marked(conn, turn_id):  # cancelled while queued: it ends now and never runs
            return replace(claimed, ended=self._end(conn, claimed.request, "cancelled"))
        return claimed

    def _recover(self, turn_id: str, worker: str) -> Claimed | None:
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(turns)
                .where(turns.c.turn_id == turn_id, turns.c.status == "running", turns.c.lease_until < _now())
                .values(worker=worker, lease_until=_now() + self.lease, attempts=turns.c.attempts + 1)
            ).rowcount
            if taken != 1:
                return None
            request = self._load(conn, turn_id)
            if self._cancel_marked(conn, turn_id):  # its worker died before it could stop it
                self._end(conn, request, "cancelled")
                return None
            if request.attempt > self.max_attempts:
                error = {"code": ErrorCode.TURN_ABANDONED.value, "message": GAVE_UP}
                insert_event(conn, request.conversation_id, "error", error, turn_id)
                self._end(conn, request, "failed")
                return None
            data = {"attempt": request.attempt}
            seq = insert_event(conn, request.conversation_id, "turn.recovered", data, turn_id)
        return Claimed(request, _stored(seq, "turn.recovered", turn_id, data))

    def _finish(self, request: TurnRequest, worker: str, status: TurnStatus, take_next: bool) -> Finished:
        with self.engine.begin() as conn:
            completed = self._end(conn, request, status, worker)
            if completed is None or not take_next:
                return Finished(completed)
            following = conn.execute(NEXT, {"cid": request.conversation_id}).scalar()
            if following is None:
                return Finished(completed)
            return Finished(completed, self._start(conn, following, request.conversation_id, worker))

    @staticmethod
    def _end(
        conn: Connection, request: TurnRequest, status: TurnStatus, worker: str | None = None
    ) -> StoredEvent | None:
        """Mark the job done and write turn.completed; with `worker`, only while that worker owns it."""
        where = (turns.c.turn_id == request.turn_id) & (turns.c.status == "running")
        if worker is not None:
            where = where & (turns.c.worker == worker)
        ended = conn.execute(
            update(turns)
            .where(where)
            .values(
                status="done",
                outcome=status,
                running=None,
                worker=None,
                lease_until=None,
                finished_at=_now(),
            )
        ).rowcount
        if ended != 1:
            return None
        data = {"status": status}
        seq = insert_event(conn, request.conversation_id, "turn.completed", data, request.turn_id)
        return _stored(seq, "turn.completed", request.turn_id, data)

    @staticmethod
    def _cancel_marked(conn: Connection, turn_id: str) -> bool:
        query = select(turns.c.cancel_requested_at).where(turns.c.turn_id == turn_id)
        return conn.execute(query).scalar() is not None

    @staticmethod
    def _load(conn: Connection, turn_id: str) -> TurnRequest:
        return _request(conn.execute(LOAD, {"tid": turn_id}).one())


def _row(request: TurnRequest) -> dict[str, Any]:
    """The `turns` row of a newly queued turn."""
    principal = request.principal
    return {
        "turn_id": request.turn_id, "conversation_id": request.conversation_id,
        "principal": {"tenant": principal.tenant, "role": principal.role, "user_id": principal.user_id},
        "text": request.text, "resume": request.resume, "status": "queued", "attempts": 0,
        "created_at": _now(), "running": None, "worker": None, "lease_until": None,
        "traceparent": request.traceparent,
    }  # fmt: skip


def _started(conn: Connection, request: TurnRequest) -> Claimed:
    """Write the first attempt's turn.started in the claim's transaction."""
    data = started_data(request)
    seq = insert_event(conn, request.conversation_id, "turn.started", data, request.turn_id)
    return Claimed(request, _stored(seq, "turn.started", request.turn_id, data))
