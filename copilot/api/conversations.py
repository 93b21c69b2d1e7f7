"""Conversations: create, read the transcript, post a message (starts a background turn)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy import Connection

from copilot.api.deps import ConversationDep, PrincipalDep, RuntimeDep
from copilot.api.errors import error_responses
from copilot.api.limits import within_message_rate
from copilot.api.models import (
    ConversationCreated,
    ConversationList,
    ConversationSummary,
    KeptTurn,
    MessageIn,
    Transcript,
    TurnAccepted,
    TurnsCancelled,
)
from copilot.api.transcript import build_transcript
from copilot.conversations import Conversation, is_own, touch_on
from copilot.errors import CopilotError, ErrorCode
from copilot.events import STAFF_ONLY_EVENTS
from copilot.handoff.service import HumanOwns, unowned_on
from copilot.principal import Principal

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Start a conversation",
    responses=error_responses(401),
)
async def create_conversation(principal: PrincipalDep, runtime: RuntimeDep) -> ConversationCreated:
    record = await runtime.conversations.create(principal)
    return ConversationCreated(id=record.id)


@router.get(
    "",
    summary="List conversations: your own, or (agents, supervisors) all of your tenant's, newest first",
    responses=error_responses(401, 422),
)
async def list_conversations(
    principal: PrincipalDep,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=200, description="At most this many.")] = 50,
) -> ConversationList:
    records = await runtime.conversations.visible_to(principal, limit=limit)
    return ConversationList(
        conversations=[
            ConversationSummary(
                id=r.id,
                customer=r.customer,
                status=r.status,
                created_at=r.created_at,
                updated_at=r.updated_at,
            )
            for r in records
        ]
    )


@router.get(
    "/{conversation_id}",
    summary="The transcript (messages, citations, tools, previews, handoff), derived from the event log",
    responses=error_responses(401, 404),
)
async def get_conversation(
    conversation: ConversationDep, principal: PrincipalDep, runtime: RuntimeDep
) -> Transcript:
    events = await runtime.events.read_all(conversation.id)
    if not principal.is_staff:
        events = [e for e in events if e["type"] not in STAFF_ONLY_EVENTS]
    return build_transcript(conversation, events, running=await runtime.turns.active(conversation.id))


@router.post(
    "/{conversation_id}/messages",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a user message; the turn runs in the background (after any earlier turn of the "
    "conversation) and streams on /events",
    responses=error_responses(401, 403, 404, 409, 422, 429),
)
async def post_message(
    body: MessageIn, conversation: ConversationDep, principal: PrincipalDep, runtime: RuntimeDep
) -> TurnAccepted:
    _only_its_user(principal, conversation)
    await within_message_rate(runtime, principal)
    try:  # activity stamp, "no human owns it" and the turn: one transaction
        turn_id = await runtime.turns.start(
            conversation.id, principal, text=body.text, also=partial(_admit, conversation.id), unowned=True
        )
    except HumanOwns:  # a human owns it: record, no bot turn
        await runtime.handoff.customer_message(conversation, body.text)
        return TurnAccepted(turn_id=None)
    return TurnAccepted(turn_id=turn_id)


def _admit(conversation_id: str, conn: Connection) -> None:
    touch_on(conn, conversation_id)  # first: on SQLite the write lock is held before the owner is read
    unowned_on(conn, conversation_id)


@router.post(
    "/{conversation_id}/cancel",
    summary="Stop the bot's running turn and its queued ones (the customer or staff); each ends with "
    "turn.completed {cancelled}, except a turn executing a confirmed change (listed in `kept`)",
    responses=error_responses(401, 404),
)
async def cancel_turn(conversation: ConversationDep, runtime: RuntimeDep) -> TurnsCancelled:
    asked = await runtime.turns.cancel(conversation.id)
    kept = [KeptTurn(turn_id=t, reason="confirmed_change", message=KEPT_CONFIRMED) for t in asked.kept]
    return TurnsCancelled(cancelled=asked.turn_ids, running=asked.running, queued=asked.queued, kept=kept)


KEPT_CONFIRMED = (
    "The customer confirmed this change, so it is still being made; the turn ends on its own once it is done."
)


def _only_its_user(principal: Principal, conversation: Conversation) -> None:
    """Only the conversation's own user drives its bot: a turn runs with the sender's privileges, and staff
    privileges (tenant-wide) must never answer into a customer's conversation."""
    if is_own(principal, conversation):
        return
    raise CopilotError(
        ErrorCode.FORBIDDEN,
        "Only the conversation's customer sends messages to its copilot. Staff reply to the customer with POST "
        f"/v1/conversations/{conversation.id}/agent-messages (after claiming it) and ask the copilot in the "
        f"staff-only thread: POST /v1/conversations/{conversation.id}/assist/questions.",
    )
