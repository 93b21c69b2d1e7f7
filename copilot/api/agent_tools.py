"""Staff tools on a conversation: run a tool with the agent's own principal through the gateway (writes:
preview → the agent's confirmation → execute once), and the conversation's gateway audit trail."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, select

from copilot.api.deps import ConversationDep, RuntimeDep
from copilot.api.errors import error_responses
from copilot.api.handoff import StaffDep
from copilot.gateway.audit import TURN_TOOL
from copilot.gateway.result import GatewayResult
from copilot.handoff.staff import require_staff
from copilot.store.schema import audit_log

router = APIRouter(prefix="/v1/conversations", tags=["agent tools"])


class AgentToolIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"tool": "get_order_details", "arguments": {"order_id": "#W0000001"}}]
        },
    )

    tool: str = Field(min_length=1, max_length=64)
    arguments: dict[str, Any] = Field(default_factory=dict)


class AgentConfirmationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    preview_id: str = Field(min_length=1, max_length=128)
    approve: bool = Field(strict=True)


class ToolOutcome(BaseModel):
    """A gateway outcome: executed (result), preview (to confirm), denied/invalid/error (code, message)."""

    outcome: Literal["executed", "preview", "denied", "invalid", "error", "rejected"]
    tool: str
    decision_id: str | None = None
    result: Any = None
    preview: dict[str, Any] | None = None
    code: str | None = None
    message: str | None = None
    approval_id: str | None = Field(
        default=None, description="Set when an over-limit write awaits a supervisor."
    )


class AuditRow(BaseModel):
    seq: int
    at: datetime
    principal: str
    role: str
    tool: str
    arguments: dict[str, Any]
    outcome: str
    code: str | None
    reason: str | None
    policy_version: str


class AuditTrail(BaseModel):
    entries: list[AuditRow]


def outcome_of(result: GatewayResult) -> ToolOutcome:
    approval = result.details.get("approval_id")
    return ToolOutcome(
        outcome=result.outcome, tool=result.tool, decision_id=result.decision_id, result=result.result,
        preview=result.preview.to_dict() if result.preview else None, code=result.code, message=result.message,
        approval_id=approval if isinstance(approval, str) else None,
    )  # fmt: skip


@router.post(
    "/{conversation_id}/agent-tools",
    summary="Staff: call a tool with your own permissions (writes return a preview to confirm)",
    responses=error_responses(401, 404, 422),
)
async def agent_tool(
    body: AgentToolIn, conversation: ConversationDep, principal: StaffDep, runtime: RuntimeDep
) -> ToolOutcome:
    staff = require_staff(runtime.staff)
    result = await asyncio.to_thread(
        staff.gateway.call,
        principal,
        body.tool,
        body.arguments,
        conversation_id=conversation.id,
    )
    return outcome_of(result)


@router.post(
    "/{conversation_id}/agent-confirmations",
    summary="Staff: confirm (executes once; over your limit: becomes a supervisor's approval request) or reject "
    "your own tool preview",
    responses=error_responses(401, 404, 409, 410, 422),
)
async def agent_confirmation(
    body: AgentConfirmationIn, conversation: ConversationDep, principal: StaffDep, runtime: RuntimeDep
) -> ToolOutcome:
    staff = require_staff(runtime.staff)
    preview = await asyncio.to_thread(staff.gateway.decide, principal, body.preview_id, body.approve)
    runtime.events.notify(conversation.id)  # an over-limit confirmation committed its approval events
    if not body.approve:
        return ToolOutcome(outcome="rejected", tool=preview.tool, preview=preview.to_dict())
    return outcome_of(await asyncio.to_thread(staff.gateway.execute, principal, body.preview_id))


def _audit(engine: Engine, tenant: str, conversation_id: str) -> list[AuditRow]:
    query = (
        select(audit_log)
        .where(
            audit_log.c.tenant == tenant,
            audit_log.c.conversation_id == conversation_id,
            audit_log.c.tool != TURN_TOOL,  # the turns' own records are not gateway decisions
        )
        .order_by(audit_log.c.seq)
    )
    with engine.connect() as conn:
        return [AuditRow.model_validate(row._mapping, from_attributes=False) for row in conn.execute(query)]


@router.get(
    "/{conversation_id}/audit",
    summary="Staff: every gateway decision of this conversation (bot, agents, supervisors), oldest first",
    responses=error_responses(401, 404),
)
async def audit(conversation: ConversationDep, principal: StaffDep, runtime: RuntimeDep) -> AuditTrail:
    rows = await asyncio.to_thread(_audit, runtime.engine, conversation.tenant, conversation.id)
    return AuditTrail(entries=rows)
