"""Confirmations: the human approves or rejects a tool preview; the graph resumes as a new turn."""

from __future__ import annotations

from fastapi import APIRouter, status

from copilot.api.deps import ConversationDep, PrincipalDep, RuntimeDep
from copilot.api.errors import error_responses
from copilot.api.models import ConfirmationIn, TurnAccepted
from copilot.errors import CopilotError, ErrorCode

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
        raise CopilotError(
            ErrorCode.CONFIRMATION_INVALID,
            f"Preview {body.preview_id!r} is not awaiting confirmation in this conversation; use the "
            "preview_id of the latest tool.preview event, or send a new message.",
        )
    turn_id = await runtime.confirm(principal, conversation.id, body.preview_id, body.approve)
    return TurnAccepted(turn_id=turn_id)
