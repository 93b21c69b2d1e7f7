"""Feedback on answers: the conversation's customer rates an assistant message (by its seq) up or down."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from copilot.api.deps import ConversationDep, PrincipalDep, RuntimeDep
from copilot.api.errors import error_responses
from copilot.api.limits import MAX_INT
from copilot.api.models import FeedbackIn, FeedbackList, FeedbackOut
from copilot.conversations import is_own
from copilot.errors import CopilotError, ErrorCode
from copilot.feedback import Feedback, FeedbackStore
from copilot.runtime import Runtime

router = APIRouter(prefix="/v1/conversations", tags=["feedback"])

AnswerSeq = Annotated[
    int, Path(ge=1, le=MAX_INT, description="The answer's `seq` (an assistant message in the transcript).")
]


async def feedback_store(runtime: RuntimeDep) -> FeedbackStore:
    return FeedbackStore(runtime.engine, runtime.events)


StoreDep = Annotated[FeedbackStore, Depends(feedback_store)]


@router.put(
    "/{conversation_id}/answers/{seq}/feedback",
    summary="Rate an answer thumbs up or down, with an optional comment; rating it again replaces the rating",
    responses=error_responses(401, 403, 404, 422),
)
async def rate_answer(
    *,
    seq: AnswerSeq,
    body: FeedbackIn,
    conversation: ConversationDep,
    principal: PrincipalDep,
    store: StoreDep,
    response: Response,
) -> FeedbackOut:
    if not is_own(principal, conversation):
        raise CopilotError(
            ErrorCode.FORBIDDEN,
            "Only the conversation's customer rates its answers; staff read the ratings in the transcript.",
        )
    saved, changed = await store.record(conversation, seq, body.rating, body.comment)
    response.status_code = 200 if saved.revisions > 1 or not changed else 201
    return _out(saved, changed)


@router.get(
    "/{conversation_id}/feedback",
    summary="The conversation's ratings, one per rated answer (its customer or staff of the tenant)",
    responses=error_responses(401, 404),
)
async def list_feedback(conversation: ConversationDep, store: StoreDep) -> FeedbackList:
    rated = await store.of_conversation(conversation.id)
    return FeedbackList(feedback=[_out(item, False) for _, item in sorted(rated.items())])


def _out(item: Feedback, changed: bool) -> FeedbackOut:
    return FeedbackOut(
        conversation_id=item.conversation_id,
        seq=item.message_seq,
        turn_id=item.turn_id,
        rating=item.rating,
        comment=item.comment,
        revisions=item.revisions,
        changed=changed,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


async def ratings(runtime: Runtime, conversation_id: str) -> dict[int, Feedback]:
    """For the transcript: the conversation's feedback by answer seq."""
    return await FeedbackStore(runtime.engine, runtime.events).of_conversation(conversation_id)
