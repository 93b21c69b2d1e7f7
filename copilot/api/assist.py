"""Agent assist: a drafted reply with citations and suggested actions for the conversation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from copilot.api.deps import ConversationDep, RuntimeDep
from copilot.api.errors import error_responses
from copilot.api.handoff import StaffDep
from copilot.api.models import Citation
from copilot.handoff.staff import require_staff

router = APIRouter(prefix="/v1/conversations", tags=["assist"])


class DraftOut(BaseModel):
    text: str
    citations: list[Citation]


class SuggestedAction(BaseModel):
    tool: str
    arguments: dict[str, Any]
    label: str


class AssistOut(BaseModel):
    draft: DraftOut
    suggested_actions: list[SuggestedAction]


@router.get(
    "/{conversation_id}/assist",
    summary="Staff: a drafted reply (citations ⊆ retrieved passages) and suggested tool actions",
    responses=error_responses(401, 404),
)
async def assist(conversation: ConversationDep, principal: StaffDep, runtime: RuntimeDep) -> AssistOut:
    staff = require_staff(runtime.staff)
    events = await runtime.events.read_all(conversation.id)
    return AssistOut.model_validate(await staff.assistant.assist(conversation, events))
