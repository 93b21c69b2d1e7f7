"""The persisted handoff queue: one row per conversation (waiting → claimed → closed), routed to a team.

Every transition is a single conditional UPDATE (compare-and-set on status/claimed_by), so two agents
claiming at once cannot both win. A change commits together with its announcement (the event on the
conversation's stream and the conversation's status), so a crash never leaves one without the other. Reads
compute waiting times; nothing lives only in memory."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from copilot.eventlog import insert_event
from copilot.events import EventType
from copilot.store.schema import conversations, handoffs

_CLAIMED = select(handoffs.c.conversation_id).where(
    handoffs.c.conversation_id == bindparam("cid"), handoffs.c.status == "claimed"
)

HandoffStatus = Literal["waiting", "claimed", "closed"]
STATUSES: tuple[HandoffStatus, ...] = get_args(HandoffStatus)
DEFAULT_TEAM = "general"

_TEAMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("returns", re.compile(r"\b(return|refund|exchange|broken|damaged|defective)", re.IGNORECASE)),
    ("orders", re.compile(r"\b(cancel|order|ship|deliver|track|package)", re.IGNORECASE)),
    ("account", re.compile(r"\b(address|account|payment|card|email|password|login)", re.IGNORECASE)),
)


def route(text: str) -> str:
    """The team (skill) for a handoff: the first team whose keywords the reason/intent mentions."""
    for team, pattern in _TEAMS:
        if pattern.search(text):
            return team
    return DEFAULT_TEAM


def now() -> datetime:
    return datetime.now(UTC)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class QueueItem:
    conversation_id: str
    tenant: str
    customer: str
    status: HandoffStatus
    team: str
    reason: str
    summary: dict[str, Any]
    claimed_by: str | None
    created_at: datetime
    claimed_at: datetime | None
    closed_at: datetime | None

    @property
    def waiting_seconds(self) -> float:
        """Time in the queue: until claimed (or closed), or until now while waiting."""
        end = self.claimed_at or self.closed_at or now()
        return max(0.0, round((end - self.created_at).total_seconds(), 1))

    @property
    def claimed_user(self) -> str | None:
        """The claiming agent's user id (claimed_by is `role:user@tenant`)."""
        if self.claimed_by is None:
            return None
        return self.claimed_by.split(":", 1)[-1].rsplit("@", 1)[0]


@dataclass(frozen=True, slots=True)
class Announcement:
    """What a queue change tells the conversation, in the same transaction."""

    type: EventType
    data: dict[str, Any]
    turn_id: str | None = None
    conversation_status: str | None = None

    def write(self, conn: Connection, conversation_id: str) -> int:
        if self.conversation_status is not None:
            conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(status=self.conversation_status, updated_at=now())
            )
        return insert_event(conn, conversation_id, self.type, self.data, self.turn_id)


_RETRIES = 5


def _item(row: Any) -> QueueItem:
    data = dict(row._mapping)
    for key in ("created_at", "claimed_at", "closed_at"):
        data[key] = _utc(data[key])
    return QueueItem(**data)


class HandoffQueue:
    """CRUD + compare-and-set transitions on the `handoffs` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def get(self, conversation_id: str) -> QueueItem | None:
        return await asyncio.to_thread(self._get, conversation_id)

    @staticmethod
    def claimed_on(conn: Connection, conversation_id: str) -> bool:
        """A human holds the conversation (read inside the caller's transaction)."""
        return conn.execute(_CLAIMED, {"cid": conversation_id}).first() is not None

    def _get(self, conversation_id: str) -> QueueItem | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(handoffs).where(handoffs.c.conversation_id == conversation_id)).first()
        return _item(row) if row else None

    async def enqueue(
        self,
        conversation_id: str,
        *,
        tenant: str,
        customer: str,
        team: str,
        reason: str,
        summary: dict[str, Any],
        announce: Announcement | None = None,
    ) -> tuple[QueueItem, bool]:
        """Queue the conversation (a closed one is re-opened) and `announce` it in the same transaction;
        (item, False) if already waiting/claimed."""
        fresh = {
            "status": "waiting", "team": team, "reason": reason, "summary": summary, "claimed_by": None,
            "created_at": now(), "claimed_at": None, "closed_at": None,
        }  # fmt: skip
        owner = {"tenant": tenant, "customer": customer}
        return await asyncio.to_thread(self._retrying, self._enqueue, conversation_id, owner, fresh, announce)

    @staticmethod
    def _retrying(step: Any, *args: Any) -> Any:
        """Run a transaction again when a concurrent event append took its seq."""
        for attempt in range(_RETRIES):
            try:
                return step(*args)
            except IntegrityError:
                if attempt == _RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _enqueue(
        self, cid: str, owner: dict[str, str], fresh: dict[str, Any], announce: Announcement | None
    ) -> tuple[QueueItem, bool]:
        with self._engine.begin() as conn:
            row = conn.execute(select(handoffs).where(handoffs.c.conversation_id == cid)).first()
            if row is not None and row.status != "closed":
                return _item(row), False
            if row is None:
                conn.execute(insert(handoffs).values(conversation_id=cid, **owner, **fresh))
            else:
                conn.execute(update(handoffs).where(handoffs.c.conversation_id == cid).values(**fresh))
            stored = conn.execute(select(handoffs).where(handoffs.c.conversation_id == cid)).one()
            if announce is not None:
                announce.write(conn, cid)
        return _item(stored), True

    async def transition(
        self, conversation_id: str, *, expect: dict[str, Any], values: dict[str, Any],
        announce: Announcement | None = None,
    ) -> QueueItem | None:  # fmt: skip
        """Apply `values` only if the row still matches `expect` (column → value), with `announce` in the
        same transaction; None if it did not match."""
        return await asyncio.to_thread(
            self._retrying, self._transition, conversation_id, expect, values, announce
        )

    def _transition(
        self, cid: str, expect: dict[str, Any], values: dict[str, Any], announce: Announcement | None
    ) -> QueueItem | None:
        where = [handoffs.c.conversation_id == cid]
        where += [handoffs.c[column] == value for column, value in expect.items()]
        with self._engine.begin() as conn:
            changed = conn.execute(update(handoffs).where(*where).values(**values)).rowcount
            if changed != 1:
                return None
            row = conn.execute(select(handoffs).where(handoffs.c.conversation_id == cid)).one()
            if announce is not None:
                announce.write(conn, cid)
        return _item(row)

    async def listing(
        self, tenant: str, *, status: str = "waiting", team: str | None = None
    ) -> list[QueueItem]:
        """The tenant's items, oldest first (longest waiting on top); status 'all' for every item."""
        return await asyncio.to_thread(self._listing, tenant, status, team)

    def _listing(self, tenant: str, status: str, team: str | None) -> list[QueueItem]:
        query = select(handoffs).where(handoffs.c.tenant == tenant)
        if status != "all":
            query = query.where(handoffs.c.status == status)
        if team:
            query = query.where(handoffs.c.team == team)
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(handoffs.c.created_at, handoffs.c.conversation_id)).all()
        return [_item(row) for row in rows]
