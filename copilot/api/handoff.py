"""Human handoff over HTTP: request a human, the staff queue, claim, agent replies, release (hand back)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from copilot.api.deps import ConversationDep, PrincipalDep, RuntimeDep
from copilot.api.errors import error_responses
from copilot.api.limits import within_message_rate
from copilot.api.models import MAX_MESSAGE_CHARS
from copilot.errors import CopilotError, ErrorCode
from copilot.handoff.queue import QueueItem
from copilot.knowledge.citations import DOC_ID_CHARS
from copilot.principal import Principal

router = APIRouter(tags=["handoff"])
STAFF = frozenset({"agent", "supervisor"})


class HandoffIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "wants a refund"}]})

    reason: str | None = Field(default=None, max_length=500, description="Why a human is needed.")
    team: str | None = Field(
        default=None, max_length=64, description="Route to this team (default: from the request)."
    )


CITABLE = re.compile(rf"^{DOC_ID_CHARS}{{1,200}}#\d+$")
"""A chunk id the knowledge base can cite (`<doc id>#<n>`)."""


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=CITABLE.pattern, max_length=220, description="A chunk id, like refund-policy#1.")
    title: str = Field(default="", max_length=200)


class AgentMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"text": "Hi, I'm Ann."}]})

    text: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    citations: list[SourceIn] = Field(
        default_factory=list, max_length=10, description="Help-center sources shown as links (assist drafts)."
    )


class HandoffOut(BaseModel):
    """A queue item: status waiting → claimed → closed, routed to a team, with the structured summary."""

    conversation_id: str
    status: Literal["waiting", "claimed", "closed"]
    team: str
    reason: str
    customer: str
    summary: dict[str, Any] = Field(description="{customer, intent, tried, tool_results, open_previews}")
    waiting_seconds: float
    claimed_by: str | None = Field(description="The claiming agent's user id.")
    created_at: datetime
    claimed_at: datetime | None = None
    closed_at: datetime | None = None


class HandoffList(BaseModel):
    handoffs: list[HandoffOut]


class AgentMessageOut(BaseModel):
    event_id: int
    text: str
    agent: str


def out(item: QueueItem) -> HandoffOut:
    return HandoffOut(
        conversation_id=item.conversation_id, status=item.status, team=item.team, reason=item.reason,
        customer=item.customer, summary=item.summary, waiting_seconds=item.waiting_seconds,
        claimed_by=item.claimed_user, created_at=item.created_at, claimed_at=item.claimed_at,
        closed_at=item.closed_at,
    )  # fmt: skip


def staff_principal(principal: PrincipalDep) -> Principal:
    """An agent or supervisor (403 otherwise)."""
    if principal.role not in STAFF:
        raise CopilotError(ErrorCode.FORBIDDEN, "Only support agents and supervisors can use this endpoint.")
    return principal


StaffDep = Annotated[Principal, Depends(staff_principal)]
Force = Annotated[bool, Query(description="Supervisors only: take over from another agent.")]


@router.post(
    "/v1/conversations/{conversation_id}/handoff",
    summary="Ask for a human (customer, guest or staff); idempotent while queued or claimed",
    responses=error_responses(401, 404, 422),
)
async def request_handoff(
    conversation: ConversationDep, principal: PrincipalDep, runtime: RuntimeDep, body: HandoffIn | None = None
) -> HandoffOut:
    body = body or HandoffIn()
    default = "agent_request" if principal.is_staff else "customer_request"
    item = await runtime.handoff.request(conversation, reason=body.reason or default, team=body.team)
    return out(item)


@router.get(
    "/v1/handoffs",
    summary="Staff: the tenant's handoff queue, longest waiting first",
    responses=error_responses(401, 422),
)
async def list_handoffs(
    principal: StaffDep,
    runtime: RuntimeDep,
    status: Annotated[Literal["waiting", "claimed", "closed", "all"], Query()] = "waiting",
    team: Annotated[str | None, Query(max_length=64)] = None,
) -> HandoffList:
    items = await runtime.handoff.queue.listing(principal.tenant, status=status, team=team)
    return HandoffList(handoffs=[out(item) for item in items])


@router.post(
    "/v1/conversations/{conversation_id}/claim",
    summary="Staff: take the conversation over (the bot pauses); 409 if another agent owns it",
    responses=error_responses(401, 404, 409),
)
async def claim(
    conversation: ConversationDep, principal: StaffDep, runtime: RuntimeDep, force: Force = False
) -> HandoffOut:
    return out(await runtime.handoff.claim(conversation, principal, force=force))


@router.post(
    "/v1/conversations/{conversation_id}/agent-messages",
    summary="The owning agent replies to the customer (agent.message on the stream)",
    responses=error_responses(401, 404, 409, 422, 429),
)
async def agent_message(
    body: AgentMessageIn, conversation: ConversationDep, principal: StaffDep, runtime: RuntimeDep
) -> AgentMessageOut:
    await within_message_rate(runtime, principal)
    sources = [{"id": c.id, "title": c.title or c.id.split("#")[0]} for c in body.citations]
    seq = await runtime.handoff.reply(conversation, principal, body.text, citations=sources)
    return AgentMessageOut(event_id=seq, text=body.text, agent=principal.user_id)


@router.post(
    "/v1/conversations/{conversation_id}/release",
    summary="The owning agent hands back to the bot; a context boundary is recorded",
    responses=error_responses(401, 404, 409),
)
async def release(
    conversation: ConversationDep, principal: StaffDep, runtime: RuntimeDep, force: Force = False
) -> HandoffOut:
    return out(await runtime.handoff.release(conversation, principal, force=force))
