"""Confirmations: the human approves or rejects a tool preview; the graph resumes as a new turn."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, status

from copilot.api.deps import ConversationDep, PrincipalDep, RuntimeDep
from copilot.api.errors import error_responses
from copilot.api.models import ConfirmationIn, TurnAccepted
from copilot.errors import CopilotError, ErrorCode
from copilot.principal import Principal
from copilot.runtime import Runtime

router = APIRouter(prefix="/v1/conversations", tags=["confirmations"])


@router.post(
    "/{conversation_id}/confirmations",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Approve or reject a previewed write; resumes the conversation's graph in the background",
    responses=error_responses(401, 404, 409, 410, 422),
)
async def confirm(
    body: ConfirmationIn, conversation: ConversationDep, principal: PrincipalDep, runtime: RuntimeDep
) -> TurnAccepted:
    await runtime.turns.ensure_idle(conversation.id)
    if body.preview_id not in await runtime.pending_previews(conversation.id):
        raise await _not_awaiting(runtime, principal, body.preview_id)
    turn_id = await runtime.confirm(principal, conversation.id, body.preview_id, body.approve)
    return TurnAccepted(turn_id=turn_id)


_DECIDED = {
    "pending": "You already confirmed this change; it is waiting for a supervisor's approval. The outcome will "
    "appear here.",
    "approved": "You already confirmed this change and a supervisor approved it; the outcome is shown here.",
    "rejected": "You already confirmed this change, but a supervisor declined it; nothing was changed.",
}


async def _not_awaiting(runtime: Runtime, principal: Principal, preview_id: str) -> CopilotError:
    """Why a preview cannot be confirmed (again), in words for the person who clicked."""
    approval = None
    if runtime.staff is not None:
        approval = await asyncio.to_thread(
            runtime.staff.approvals.store.by_preview, principal.tenant, preview_id
        )
    if approval is not None:
        return CopilotError(ErrorCode.CONFIRMATION_USED, _DECIDED[approval.status])
    return CopilotError(
        ErrorCode.CONFIRMATION_INVALID,
        "This change is no longer waiting for your confirmation (it was decided, replaced or expired); ask "
        "again if you still want it.",
    )
