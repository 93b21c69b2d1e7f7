"""The turn queue's SQL, built once (building a statement costs more than running it): bind parameters
instead of values, the same statements on SQLite and Postgres except the dialect's INSERT ... ON CONFLICT."""

from __future__ import annotations

from sqlalchemy import and_, bindparam, exists, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from copilot.store.schema import turns

QUEUED_OR_RUNNING = ("queued", "running")
other = turns.alias("other")
AHEAD = exists().where(
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
HEADS = (
    select(turns.c.turn_id, turns.c.conversation_id)
    .where(turns.c.status == "queued", ~AHEAD)
    .order_by(turns.c.created_at)
    .limit(bindparam("limit"))
)
CANCELLED_HEADS = (
    select(turns.c.turn_id, turns.c.conversation_id)
    .where(turns.c.status == "queued", turns.c.cancel_requested_at.is_not(None), ~AHEAD)
    .order_by(turns.c.created_at)
    .limit(bindparam("limit"))
)
"""Queued turns cancelled before they ran, with nothing ahead of them: ended on claim, so they need no room."""
EXPIRED = (
    select(turns.c.turn_id)
    .where(turns.c.status == "running", turns.c.lease_until < bindparam("now"))
    .order_by(turns.c.created_at)
    .limit(bindparam("limit"))
)
NEXT = (
    select(turns.c.turn_id)
    .where(turns.c.conversation_id == bindparam("cid"), turns.c.status == "queued")
    .order_by(turns.c.created_at, turns.c.turn_id)
    .limit(1)
)
ACTIVE = (
    select(turns.c.turn_id)
    .where(turns.c.conversation_id == bindparam("cid"), turns.c.status.in_(QUEUED_OR_RUNNING))
    .limit(1)
)
LOAD = select(turns).where(turns.c.turn_id == bindparam("tid"))
INSERT = insert(turns)
START = (
    update(turns)
    .where(turns.c.turn_id == bindparam("tid"), turns.c.status == "queued")
    .values(
        status="running",
        running=bindparam("p_cid"),
        worker=bindparam("p_worker"),
        lease_until=bindparam("p_lease"),
        attempts=turns.c.attempts + 1,
    )
)
NEW_COLUMNS = (
    "turn_id", "conversation_id", "principal", "text", "resume", "status", "running", "worker", "lease_until",
    "attempts", "created_at", "traceparent",
)  # fmt: skip


def claim_new(dialect: str) -> Insert:
    """INSERT a turn already running for its worker, only if its conversation has no turn queued or running
    (one statement: atomic on SQLite; on Postgres a concurrent twin hits the unique `running` column, and
    ON CONFLICT DO NOTHING makes that a 0-row insert instead of an error that would abort the transaction)."""
    values = select(*(bindparam(f"n_{c}", type_=turns.c[c].type) for c in NEW_COLUMNS)).where(
        ~exists().where(
            turns.c.conversation_id == bindparam("n_conversation_id"),
            turns.c.status.in_(QUEUED_OR_RUNNING),
        )
    )
    dml = postgresql.insert(turns) if dialect == "postgresql" else sqlite.insert(turns)
    return dml.from_select(list(NEW_COLUMNS), values).on_conflict_do_nothing().returning(turns.c.turn_id)
