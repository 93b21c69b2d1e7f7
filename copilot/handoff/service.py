"""Handoff ownership: request → claim → agent replies → release, each step persisted and announced on the
conversation's event stream. While an agent owns a conversation no bot turn runs (see `gate`); on release
a context boundary is recorded in the graph's thread so the bot starts fresh instead of looping back."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from copilot.conversations import Conversation, ConversationStore
from copilot.errors import CopilotError, ErrorCode
from copilot.eventlog import EventLog
from copilot.events import EventSink, EventType
from copilot.faults import crash_point
from copilot.handoff.queue import Announcement, HandoffQueue, QueueItem, now, route
from copilot.handoff.summary import build_summary, customer_texts, intent_of
from copilot.principal import Principal
from copilot.telemetry import metrics
from copilot.turns import TurnRequest, TurnRunner, TurnScheduler, TurnStatus
from copilot.turns.request import confirmed_change

Boundary = Callable[[str, str], Awaitable[None]]
"""Record a context boundary in the conversation's graph thread: (conversation_id, note)."""
CLAIMERS = frozenset({"agent", "supervisor"})
BOUNDARY_NOTE = (
    "A human support agent handled the previous part of this conversation; that handoff is closed. "
    "Answer the customer's next message on its own; do not transfer again unless they ask for a person."
)
IDLE_WAIT_SECONDS = 10.0


class HumanOwns(Exception):
    """Raised inside a message's enqueue transaction when a human agent holds the conversation (rolls it back)."""


def unowned_on(conn: Connection, conversation_id: str) -> None:
    """Refuse a bot turn inside the caller's transaction while a human owns the conversation (HumanOwns)."""
    if HandoffQueue.claimed_on(conn, conversation_id):
        raise HumanOwns(conversation_id)


def _conflict(message: str) -> CopilotError:
    return CopilotError(ErrorCode.CONFLICT, message)


class HandoffService:
    def __init__(
        self,
        queue: HandoffQueue,
        events: EventLog,
        conversations: ConversationStore,
        boundary: Boundary | None = None,
    ) -> None:
        self.queue = queue
        self._events = events
        self._conversations = conversations
        self.boundary = boundary
        self.turns: TurnScheduler | None = None
        """Set once the scheduler exists (it runs turns through `wrap_runner`)."""

    # -- request ---------------------------------------------------------------------------------------
    async def request(
        self, conversation: Conversation, *, reason: str, team: str | None = None, turn_id: str | None = None
    ) -> QueueItem:
        """Queue the conversation for a human (idempotent while waiting or claimed)."""
        events = await self._events.read_all(conversation.id)
        summary = build_summary(conversation.customer, events, reason)
        chosen = team or route(f"{reason} {intent_of(customer_texts(events), reason)}")
        data = {"status": "waiting", "team": chosen, "reason": reason}
        announce = Announcement("handoff.queued", data, turn_id, conversation_status="handoff")
        item, created = await self.queue.enqueue(
            conversation.id, tenant=conversation.tenant, customer=conversation.customer,
            team=chosen, reason=reason, summary=dict(summary), announce=announce,
        )  # fmt: skip
        if created:
            self._events.notify(conversation.id)
            metrics.count_handoff(reason)
        return item

    # -- ownership --------------------------------------------------------------------------------------
    async def claim(
        self, conversation: Conversation, principal: Principal, *, force: bool = False
    ) -> QueueItem:
        """The agent takes the conversation over; a supervisor may take it from another agent with force."""
        _require_claimer(principal, force)
        item = await self.queue.get(conversation.id)
        if item is None or item.status == "closed":
            item = await self.request(conversation, reason="agent_takeover")
        if item.claimed_by == principal.label():
            return item
        if item.status == "claimed" and not force:
            raise _conflict(
                f"Agent {item.claimed_user} already owns this conversation; only a supervisor can take it "
                "over (POST .../claim?force=true)."
            )
        if (
            self.turns is not None
        ):  # the bot's running turn is cancelled: it never answers into a human's chat
            await self._stop_bot(conversation.id)
        data: dict[str, Any] = {"status": "claimed", "agent": principal.user_id, "team": item.team}
        if item.status == "claimed":
            data["taken_from"] = item.claimed_user
        claimed = await self.queue.transition(
            conversation.id,
            expect={"status": item.status, "claimed_by": item.claimed_by},
            values={"status": "claimed", "claimed_by": principal.label(), "claimed_at": now()},
            announce=Announcement("handoff.claimed", data),
        )
        if claimed is None:
            raise _conflict(
                "Someone else changed this handoff at the same moment; reload the queue and retry."
            )
        crash_point("handoff.claim.committed")
        self._events.notify(conversation.id)
        return claimed

    async def _stop_bot(self, conversation_id: str) -> None:
        """Cancel the bot's turns (a queued one that starts meanwhile too) until none runs, for at most
        IDLE_WAIT_SECONDS; a turn of a dead worker is ended as cancelled when it is recovered."""
        assert self.turns is not None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(IDLE_WAIT_SECONDS):
                while await self.turns.active(conversation_id):
                    asked = await self.turns.cancel(conversation_id)
                    if asked.kept and not asked.turn_ids:
                        return  # only a confirmed change is left: it runs anyway (not cancellable), don't wait
                    await asyncio.sleep(0.05)

    async def owned(
        self, conversation: Conversation, principal: Principal, *, force: bool = False
    ) -> QueueItem:
        """The claimed item if `principal` owns it (or is a supervisor forcing); 409 otherwise."""
        _require_claimer(principal, force)
        item = await self.queue.get(conversation.id)
        if item is None or item.status != "claimed":
            raise _conflict("Nobody has claimed this conversation; claim it first (POST .../claim).")
        if item.claimed_by != principal.label() and not force:
            raise _conflict(
                f"Agent {item.claimed_user} owns this conversation; only they can reply or release it."
            )
        return item

    async def reply(
        self, conversation: Conversation, principal: Principal, text: str,
        citations: Sequence[Mapping[str, str]] = (),
    ) -> int:  # fmt: skip
        """The owning agent's message, live to the customer (agent.message); returns its event id."""
        await self.owned(conversation, principal)
        data: dict[str, Any] = {"text": text, "agent": principal.user_id}
        if citations:
            data["citations"] = [dict(c) for c in citations]
        seq = await self._events.append(conversation.id, "agent.message", data)
        await self._conversations.touch(conversation.id)
        return seq

    async def release(
        self, conversation: Conversation, principal: Principal, *, force: bool = False
    ) -> QueueItem:
        """Hand back to the bot: close the handoff and record the context boundary."""
        item = await self.owned(conversation, principal, force=force)
        if self.boundary is not None:  # first: a crash before the release leaves it claimed, to retry
            await self.boundary(conversation.id, BOUNDARY_NOTE)
        data = {"status": "closed", "agent": principal.user_id}
        closed = await self.queue.transition(
            conversation.id,
            expect={"status": "claimed", "claimed_by": item.claimed_by},
            values={"status": "closed", "closed_at": now()},
            announce=Announcement("handoff.released", data, conversation_status="open"),
        )
        if closed is None:
            raise _conflict("The handoff changed at the same moment; reload and retry.")
        self._events.notify(conversation.id)
        return closed

    # -- the bot's side ----------------------------------------------------------------------------------
    async def owner(self, conversation_id: str) -> QueueItem | None:
        """The claimed item when a human owns the conversation (the bot must stay quiet)."""
        item = await self.queue.get(conversation_id)
        return item if item is not None and item.status == "claimed" else None

    async def _unowned(self, conversation_id: str) -> bool:
        return await self.owner(conversation_id) is None

    async def customer_message(self, conversation: Conversation, text: str) -> int:
        """A customer's message while a human owns the conversation: recorded, no bot turn."""
        seq = await self._events.append(conversation.id, "message.user", {"text": text})
        await self._conversations.touch(conversation.id)
        return seq

    def wrap_runner(self, runner: TurnRunner) -> TurnRunner:
        """A runner whose graph handoffs (handoff.requested) also enqueue the conversation, and that stays
        quiet when a human agent claimed the conversation while the turn waited in the queue — except a turn
        that executes a change the customer confirmed: its write runs once (tool.executed), and if a human
        owns the conversation by then the turn ends there (handoff) with no model call and no answer. A turn claimed
        in the transaction that queued it, after `unowned_on`, never waited: it is not asked again."""

        async def run(request: TurnRequest, sink: EventSink) -> TurnStatus:
            kept = confirmed_change(request.resume)  # a commitment: the write runs though a human owns it
            if kept:
                unowned = functools.partial(self._unowned, request.conversation_id)
                request = dataclasses.replace(request, may_answer=unowned)
            elif not request.unowned and await self.owner(request.conversation_id) is not None:
                return "completed"  # the agent sees the message in the transcript (turn.started)
            status = await runner(request, _EnqueueingSink(self, sink, request.conversation_id))
            if request.recovered:  # the previous worker may have died between handoff.requested and the queue
                await self._ensure_queued(request)
            return status

        return run

    async def _ensure_queued(self, request: TurnRequest) -> None:
        events = await self._events.read_all(request.conversation_id)
        asked = [e for e in events if e["turn_id"] == request.turn_id and e["type"] == "handoff.requested"]
        conversation = await self._conversations.get(request.conversation_id)
        if asked and conversation is not None:
            reason = str(asked[-1]["data"].get("reason") or "bot_handoff")
            await self.request(conversation, reason=reason, turn_id=request.turn_id)


class _EnqueueingSink:
    def __init__(self, service: HandoffService, inner: EventSink, conversation_id: str) -> None:
        self._service, self._inner, self._cid = service, inner, conversation_id

    async def emit(self, type: EventType, data: dict[str, Any], *, turn_id: str | None = None) -> int:
        seq = await self._inner.emit(type, data, turn_id=turn_id)
        if type == "handoff.requested":
            conversation = await self._service._conversations.get(self._cid)
            if conversation is not None:
                reason = str(data.get("reason") or "bot_handoff")
                await self._service.request(conversation, reason=reason, turn_id=turn_id)
        return seq


def _require_claimer(principal: Principal, force: bool) -> None:
    if principal.role not in CLAIMERS:
        raise CopilotError(ErrorCode.FORBIDDEN, "Only support agents and supervisors can handle handoffs.")
    if force and principal.role != "supervisor":
        raise CopilotError(ErrorCode.FORBIDDEN, "Only a supervisor can take over with force=true.")
