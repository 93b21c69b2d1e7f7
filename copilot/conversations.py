"""Conversation records and who may read them: the conversation's customer and the tenant's agents/supervisors."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from copilot.errors import CopilotError, ErrorCode
from copilot.principal import Principal, Role
from copilot.store.schema import conversations

READER_STAFF: frozenset[Role] = frozenset({"agent", "supervisor"})
"""Staff roles that read customer conversations of their tenant (admin sees no customer data by default)."""


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    tenant: str
    customer: str
    customer_role: str
    status: str
    created_at: datetime
    updated_at: datetime


def can_read(principal: Principal, conversation: Conversation) -> bool:
    """The conversation's own user, or an agent/supervisor of the same tenant."""
    if principal.tenant != conversation.tenant:
        return False
    if principal.role in READER_STAFF:
        return True
    return principal.user_id == conversation.customer and principal.role == conversation.customer_role


def is_own(principal: Principal, conversation: Conversation) -> bool:
    """The conversation's own user: the only one whose messages drive its bot."""
    return (
        principal.tenant == conversation.tenant
        and principal.user_id == conversation.customer
        and principal.role == conversation.customer_role
    )


class ConversationStore:
    """Create and look up conversations in the `conversations` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def create(self, principal: Principal) -> Conversation:
        """A new conversation owned by `principal`."""
        now = datetime.now(UTC)
        record = Conversation(
            id=f"conv_{uuid.uuid4().hex[:20]}",
            tenant=principal.tenant,
            customer=principal.user_id,
            customer_role=principal.role,
            status="open",
            created_at=now,
            updated_at=now,
        )
        await asyncio.to_thread(self._insert, record)
        return record

    def _insert(self, record: Conversation) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                insert(conversations).values(
                    id=record.id,
                    tenant=record.tenant,
                    customer=record.customer,
                    customer_role=record.customer_role,
                    status=record.status,
                    created_at=record.created_at,
                    updated_at=record.updated_at,
                )
            )

    async def get(self, conversation_id: str) -> Conversation | None:
        return await asyncio.to_thread(self._get, conversation_id)

    def _get(self, conversation_id: str) -> Conversation | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(conversations).where(conversations.c.id == conversation_id)).first()
        return Conversation(**row._mapping) if row else None

    async def readable(self, principal: Principal, conversation_id: str) -> Conversation:
        """The conversation if `principal` may read it; NOT_FOUND otherwise (no existence leak)."""
        record = await self.get(conversation_id)
        if record is None or not can_read(principal, record):
            raise CopilotError(
                ErrorCode.NOT_FOUND,
                f"No conversation {conversation_id!r} for you; create one with POST /v1/conversations.",
            )
        return record

    async def visible_to(self, principal: Principal, *, limit: int = 50) -> list[Conversation]:
        """Newest first: the principal's own conversations, or all of the tenant's for agents/supervisors."""
        return await asyncio.to_thread(self._visible_to, principal, limit)

    def _visible_to(self, principal: Principal, limit: int) -> list[Conversation]:
        query = select(conversations).where(conversations.c.tenant == principal.tenant)
        if principal.role not in READER_STAFF:
            query = query.where(
                conversations.c.customer == principal.user_id, conversations.c.customer_role == principal.role
            )
        query = query.order_by(conversations.c.updated_at.desc(), conversations.c.id).limit(limit)
        with self._engine.connect() as conn:
            return [Conversation(**row._mapping) for row in conn.execute(query)]

    async def touch(self, conversation_id: str) -> None:
        """Mark activity (a new message) so lists show the conversation first."""
        await asyncio.to_thread(self._touch, conversation_id)

    def _touch(self, conversation_id: str) -> None:
        with self._engine.begin() as conn:
            touch_on(conn, conversation_id)

    async def set_status(self, conversation_id: str, status: str) -> None:
        await asyncio.to_thread(self._set_status, conversation_id, status)

    def _set_status(self, conversation_id: str, status: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(status=status, updated_at=datetime.now(UTC))
            )


_TOUCH = update(conversations).where(conversations.c.id == bindparam("cid"))


def touch_on(conn: Connection, conversation_id: str) -> None:
    """`ConversationStore.touch` inside the caller's transaction (e.g. with the turn a message queues)."""
    conn.execute(_TOUCH, {"cid": conversation_id, "updated_at": datetime.now(UTC)})
