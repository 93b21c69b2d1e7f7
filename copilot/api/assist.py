"""Agent assist: a drafted reply with citations and suggested actions for the conversation, and staff
questions to the copilot, answered in a staff-only thread (`assist.answered` events, never sent to the
customer's stream or transcript; the agent sends an answer with …/agent-messages if it wants to).
GET …/assist/questions lists that thread: every earlier question and the copilot's draft answer."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from copilot.api.deps import ConversationDep, RuntimeDep
from copilot.api.errors import error_responses
from copilot.api.handoff import StaffDep
from copilot.api.models import Citation
from copilot.conversations import Conversation
from copilot.events import StoredEvent
from copilot.handoff.staff import require_staff
from copilot.runtime import Runtime

router = APIRouter(prefix="/v1/conversations", tags=["assist"])


def metered(runtime: Runtime, conversation: Conversation) -> AbstractAsyncContextManager[object]:
    """The assist model calls count in `model_usage` and against the tenant's budget (429 budget_exceeded)."""
    if runtime.observer is None:
        return nullcontext()
    return runtime.observer.metered(conversation.tenant, conversation.id)


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
    responses=error_responses(401, 404, 429),
)
async def assist(conversation: ConversationDep, principal: StaffDep, runtime: RuntimeDep) -> AssistOut:
    staff = require_staff(runtime.staff)
    events = await runtime.events.read_all(conversation.id)
    async with metered(runtime, conversation):
        return AssistOut.model_validate(await staff.assistant.assist(conversation, events))


class QuestionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000, description="Your question to the copilot.")


class AnswerOut(BaseModel):
    event_id: int = Field(description="The `assist.answered` event in the conversation's staff-only thread.")
    question: str
    draft: DraftOut


@router.post(
    "/{conversation_id}/assist/questions",
    summary="Staff: ask the copilot about the conversation; the answer stays in the staff-only thread",
    responses=error_responses(401, 403, 404, 422, 429),
)
async def ask(
    body: QuestionIn, conversation: ConversationDep, principal: StaffDep, runtime: RuntimeDep
) -> AnswerOut:
    staff = require_staff(runtime.staff)
    async with metered(runtime, conversation):
        draft = await staff.assistant.answer(conversation, body.text)
    data = {"question": body.text, "asked_by": principal.user_id, **draft}
    seq = await runtime.events.append(conversation.id, "assist.answered", data)
    return AnswerOut(event_id=seq, question=body.text, draft=DraftOut.model_validate(draft))


class ThreadItem(BaseModel):
    event_id: int
    question: str
    asked_by: str
    draft: DraftOut


class ThreadOut(BaseModel):
    items: list[ThreadItem] = Field(description="Oldest first.")


def _item(event: StoredEvent) -> ThreadItem:
    data = event["data"]
    draft = DraftOut.model_validate({"text": data.get("text", ""), "citations": data.get("citations", [])})
    return ThreadItem(event_id=event["seq"], question=str(data.get("question", "")),
                      asked_by=str(data.get("asked_by", "")), draft=draft)  # fmt: skip


@router.get(
    "/{conversation_id}/assist/questions",
    summary="Staff: the staff-only thread — earlier questions to the copilot and its drafts (oldest first)",
    responses=error_responses(401, 403, 404),
)
async def thread(conversation: ConversationDep, principal: StaffDep, runtime: RuntimeDep) -> ThreadOut:
    events = await runtime.events.read_all(conversation.id)
    return ThreadOut(items=[_item(e) for e in events if e["type"] == "assist.answered"])
