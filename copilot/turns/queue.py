"""The durable turn queue: one row per turn in the `turns` table, shared by every worker and process.

A turn is queued by `enqueue` (on the caller's connection when given: a confirmation commits its decision and
its resume job together), taken by `claim` under a lease that `renew` extends, and ended by `finish`, which
writes turn.completed in the same transaction. A running turn whose lease expired (its worker died) is claimed
again with attempt + 1; after `max_attempts` it ends as failed with an error the customer understands. One
turn runs per conversation at a time (the unique `running` column holds the conversation id), and the queued
turns of a conversation run in the order they were accepted. All of it is compare-and-set SQL, the same on
SQLite and Postgres.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, and_, exists, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from copilot.errors import ErrorCode
from copilot.eventlog import insert_event
from copilot.principal import Principal
from copilot.store.schema import turns
from copilot.turns.request import TurnRequest, TurnStatus

_RETRIES = 5
T = TypeVar("T")
GAVE_UP = (
    "The assistant was interrupted several times while working on this and stopped. Nothing else will "
    "happen for this message; send it again or ask for a human agent."
)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Claimed:
    request: TurnRequest
    started_seq: int
    """Seq of the turn.started (first attempt) or turn.recovered event written with the claim."""


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

    # -- producers ------------------------------------------------------------------------------------
    def enqueue(self, request: TurnRequest, conn: Connection | None = None) -> None:
        """Persist a queued turn; on `conn`, inside the caller's transaction (committed with it)."""
        principal = request.principal
        row = {
            "turn_id": request.turn_id, "conversation_id": request.conversation_id,
            "principal": {"tenant": principal.tenant, "role": principal.role, "user_id": principal.user_id},
            "text": request.text, "resume": request.resume, "status": "queued", "attempts": 0,
            "created_at": _now(), "traceparent": request.traceparent,
        }  # fmt: skip
        if conn is not None:
            conn.execute(insert(turns).values(**row))
            return
        with self.engine.begin() as own:
            own.execute(insert(turns).values(**row))

    # -- workers --------------------------------------------------------------------------------------
    def claim(self, worker: str, limit: int, *, recover: bool = True) -> list[Claimed]:
        """Up to `limit` turns for `worker`: expired ones first (recovery, unless `recover` is False), then the
        oldest queued turn of every conversation that has none running."""
        claimed: list[Claimed] = []
        for turn_id in self._expired(limit) if recover else []:
            if (got := self._retrying(partial(self._recover, turn_id, worker))) is not None:
                claimed.append(got)
        for turn_id, cid in self._heads(limit - len(claimed)):
            if (got := self._retrying(partial(self._start, turn_id, cid, worker))) is not None:
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

    def finish(self, request: TurnRequest, worker: str, status: TurnStatus) -> int | None:
        """End the turn with turn.completed {status}, atomically; None if `worker` lost it to another."""
        return self._retrying(partial(self._finish, request, worker, status))

    def request_cancel(self, conversation_id: str) -> list[str]:
        """Mark the conversation's running turn for cancellation (its worker stops it and writes
        turn.completed {cancelled}; a recovery of it ends it so); returns the marked turn ids."""
        running = (turns.c.conversation_id == conversation_id) & (turns.c.status == "running")
        with self.engine.begin() as conn:
            ids = list(conn.execute(select(turns.c.turn_id).where(running)).scalars())
            if ids:
                conn.execute(
                    update(turns).where(running, turns.c.turn_id.in_(ids)).values(cancel_requested_at=_now())
                )
        return ids

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
        query = select(turns.c.turn_id).where(
            turns.c.conversation_id == conversation_id, turns.c.status.in_(("queued", "running"))
        )
        with self.engine.connect() as conn:
            return conn.execute(query.limit(1)).first() is not None

    # -- transactions -----------------------------------------------------------------------------------
    @staticmethod
    def _retrying(step: Callable[[], T]) -> T | None:
        """Run one transaction again when a concurrent event append took its seq (IntegrityError)."""
        for _ in range(_RETRIES):
            try:
                return step()
            except IntegrityError:
                continue
        return None

    def _expired(self, limit: int) -> list[str]:
        query = (
            select(turns.c.turn_id)
            .where(turns.c.status == "running", turns.c.lease_until < _now())
            .order_by(turns.c.created_at)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def _heads(self, limit: int) -> list[tuple[str, str]]:
        if limit <= 0:
            return []
        other = turns.alias("other")
        ahead = exists().where(
            other.c.conversation_id == turns.c.conversation_id,
            or_(
                other.c.status == "running",
                and_(
                    other.c.status == "queued",
                    or_(
                        other.c.created_at < turns.c.created_at,
                        and_(other.c.created_at == turns.c.created_at, other.c.turn_id < turns.c.turn_id),
                    ),
                ),
            ),
        )
        query = (
            select(turns.c.turn_id, turns.c.conversation_id)
            .where(turns.c.status == "queued", ~ahead)
            .order_by(turns.c.created_at)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(row.turn_id, row.conversation_id) for row in conn.execute(query)]

    def _start(self, turn_id: str, conversation_id: str, worker: str) -> Claimed | None:
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(turns)
                .where(turns.c.turn_id == turn_id, turns.c.status == "queued")
                .values(
                    status="running",
                    running=conversation_id,
                    worker=worker,
                    lease_until=_now() + self.lease,
                    attempts=turns.c.attempts + 1,
                )
            ).rowcount
            if taken != 1:
                return None
            request = self._load(conn, turn_id)
            seq = insert_event(conn, conversation_id, "turn.started", started_data(request), turn_id)
        return Claimed(request, seq)

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
        return Claimed(request, seq)

    def _finish(self, request: TurnRequest, worker: str, status: TurnStatus) -> int | None:
        with self.engine.begin() as conn:
            return self._end(conn, request, status, worker)

    @staticmethod
    def _end(
        conn: Connection, request: TurnRequest, status: TurnStatus, worker: str | None = None
    ) -> int | None:
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
        return insert_event(conn, request.conversation_id, "turn.completed", data, request.turn_id)

    @staticmethod
    def _cancel_marked(conn: Connection, turn_id: str) -> bool:
        query = select(turns.c.cancel_requested_at).where(turns.c.turn_id == turn_id)
        return conn.execute(query).scalar() is not None

    @staticmethod
    def _load(conn: Connection, turn_id: str) -> TurnRequest:
        return _request(conn.execute(select(turns).where(turns.c.turn_id == turn_id)).one())
