"""HTTP bodies (pydantic at the trust boundary) and their OpenAPI examples."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from copilot.feedback import MAX_COMMENT_CHARS

MAX_MESSAGE_CHARS = 4000


def _none(value: object) -> bool:
    return value is None


class ErrorBody(BaseModel):
    code: str = Field(examples=["not_found"])
    message: str = Field(
        examples=["No conversation 'conv_x' for you; create one with POST /v1/conversations."]
    )
    details: dict[str, Any] | None = None


class ErrorResponse(BaseModel):
    """Every error: a code a program can branch on and a message that says what to do."""

    error: ErrorBody


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    tools: int = Field(examples=[16])
    kb_chunks: int = Field(examples=[120])
    model: str = Field(examples=["offline"])
    prompt_tokens: dict[str, int] = Field(
        default_factory=dict,
        examples=[{"guest": 900, "customer": 4200}],
        description="Approximate tokens of the fixed prompt (rules, domain policy, the role's tool schemas) per model call.",
    )


class ConversationCreated(BaseModel):
    id: str = Field(examples=["conv_3f2a9c0d1e4b5a6f7c8d"])


class ConversationSummary(BaseModel):
    id: str
    customer: str
    status: str
    created_at: datetime
    updated_at: datetime


class ConversationList(BaseModel):
    conversations: list[ConversationSummary]


class MessageIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"text": "Where is my order?"}]}
    )

    text: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS, description="The user's message.")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must not be blank")
        return value


class TurnAccepted(BaseModel):
    turn_id: str | None = Field(
        examples=["turn_0f1e2d3c4b5a6978"],
        description="null when no bot turn runs (a human agent owns the conversation).",
    )


class KeptTurn(BaseModel):
    turn_id: str
    reason: Literal["confirmed_change"] = Field(
        description="confirmed_change: the turn executes a write the customer confirmed; it is not cancellable."
    )
    message: str = Field(description="What happens to the turn, for the person who pressed Stop.")


class TurnsCancelled(BaseModel):
    cancelled: list[str] = Field(
        description="Turns asked to stop, running and queued (empty when none was running or queued); each ends "
        "with turn.completed {cancelled}."
    )
    running: list[str] = Field(description="Of those, the turn that was running: it stops where it is.")
    queued: list[str] = Field(
        description="Of those, turns that had not started: they end with turn.started + turn.completed "
        "{cancelled} without running."
    )
    kept: list[KeptTurn] = Field(
        default_factory=list,
        description="Turns not cancelled, with the reason: a turn that executes a change the customer confirmed "
        "runs to its end (the write happens exactly once and is reported as tool.executed or not done).",
    )


class ConfirmationIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"preview_id": "prv_abc123", "approve": True}]}
    )

    preview_id: str = Field(min_length=1, max_length=128)
    approve: bool = Field(strict=True)


class Citation(BaseModel):
    id: str
    title: str | None = None


class TranscriptMessage(BaseModel):
    role: Literal["user", "assistant", "agent"]
    text: str
    turn_id: str | None = None
    seq: int | None = Field(
        default=None,
        description="The event's seq (assistant messages: rate it with PUT …/answers/{seq}/feedback).",
        exclude_if=_none,
    )
    feedback: Literal["up", "down"] | None = Field(
        default=None,
        description="The customer's rating of this answer (assistant messages).",
        exclude_if=_none,
    )
    citations: list[Citation] = Field(default_factory=list)
    agent: str | None = Field(
        default=None,
        description="The human agent's user id (role agent only; omitted otherwise).",
        exclude_if=_none,
    )


class ToolActivity(BaseModel):
    tool: str
    outcome: str = Field(description="requested, executed, preview, denied, invalid or error")
    turn_id: str | None = None
    call_id: str | None = None
    code: str | None = None
    message: str | None = None


class PreviewState(BaseModel):
    preview_id: str
    tool: str | None = None
    summary: str | None = None
    expires_at: str | None = None
    status: Literal["pending", "approved", "rejected", "executed"] = "pending"
    approval: Literal["waiting", "approved", "rejected", "executed", "failed"] | None = Field(
        default=None, description="Over the limit: where the supervisor's approval stands (None: not needed)."
    )


class HandoffState(BaseModel):
    requested: bool = False
    summary: str | None = None
    status: Literal["none", "waiting", "claimed", "closed"] = Field(
        default="none", description="Queue status (omitted while none).", exclude_if=lambda v: v == "none"
    )
    agent: str | None = Field(default=None, description="The claiming agent's user id.", exclude_if=_none)
    team: str | None = Field(default=None, exclude_if=_none)
    reason: str | None = Field(default=None, exclude_if=_none)


class Transcript(BaseModel):
    """The conversation as derived from its event log."""

    id: str
    status: str
    customer: str
    running: bool
    last_event_id: int
    messages: list[TranscriptMessage]
    tools: list[ToolActivity]
    previews: list[PreviewState]
    handoff: HandoffState


class FeedbackIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"rating": "up"}, {"rating": "down", "comment": "It did not say when."}]
        },
    )

    rating: Literal["up", "down"] = Field(description="Thumbs up (the answer helped) or down.")
    comment: str | None = Field(
        default=None,
        max_length=MAX_COMMENT_CHARS,
        description="Optional; personal data (emails, card and phone numbers, addresses) is masked when stored.",
    )


class FeedbackOut(BaseModel):
    conversation_id: str
    seq: int = Field(description="The rated answer's seq.")
    turn_id: str | None
    rating: Literal["up", "down"]
    comment: str | None
    revisions: int = Field(
        description="How often this answer was rated (a later rating replaces the earlier)."
    )
    changed: bool = Field(description="False when the same rating and comment were already recorded.")
    created_at: datetime
    updated_at: datetime


class FeedbackList(BaseModel):
    feedback: list[FeedbackOut]
