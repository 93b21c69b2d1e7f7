"""Derive the transcript (messages, tool activity, previews, handoff) from a conversation's event log."""

from __future__ import annotations

from typing import Any, Literal

from copilot.api.models import (
    Citation,
    HandoffState,
    PreviewState,
    ToolActivity,
    Transcript,
    TranscriptMessage,
)
from copilot.conversations import Conversation
from copilot.events import StoredEvent

_HANDOFF_STATUS: dict[str, Literal["waiting", "claimed", "closed"]] = {
    "handoff.queued": "waiting",
    "handoff.claimed": "claimed",
    "handoff.released": "closed",
}
_TOOL_OUTCOMES = {
    "tool.requested": "requested",
    "tool.executed": "executed",
    "tool.preview": "preview",
    "tool.denied": "denied",
    "tool.invalid": "invalid",
    "tool.error": "error",
}


class _Builder:
    def __init__(self) -> None:
        self.messages: list[TranscriptMessage] = []
        self.tools: list[ToolActivity] = []
        self.previews: dict[str, PreviewState] = {}
        self.handoff = HandoffState()
        self._preview_calls: dict[str, str] = {}

    def add(self, event: StoredEvent) -> None:
        kind, data, turn_id, seq = event["type"], event["data"], event["turn_id"], event["seq"]
        if kind == "turn.started":
            self._turn_started(data, turn_id, seq)
        elif kind == "message.completed":
            self.messages.append(
                TranscriptMessage(
                    role="assistant",
                    text=str(data.get("text", "")),
                    turn_id=turn_id,
                    seq=seq,
                    citations=_citations(data.get("citations")),
                )
            )
        elif kind == "feedback.recorded":
            self._feedback(data)
        elif kind in _TOOL_OUTCOMES:
            self._tool(kind, data, turn_id)
        elif kind == "handoff.requested":
            self.handoff.requested, self.handoff.summary = True, _str(data.get("summary"))
        elif kind in _HANDOFF_STATUS:
            self._handoff(kind, data)
        elif kind == "approval.status":
            self._approval(data)
        elif kind in ("message.user", "agent.message"):
            role: Literal["user", "agent"] = "user" if kind == "message.user" else "agent"
            text, agent = str(data.get("text", "")), _str(data.get("agent"))
            self.messages.append(
                TranscriptMessage(role=role, text=text, turn_id=turn_id, seq=seq, agent=agent)
            )

    def _feedback(self, data: dict[str, Any]) -> None:
        rating = data.get("rating")
        for message in self.messages:
            if (
                message.seq == data.get("message_seq")
                and message.role == "assistant"
                and rating in ("up", "down")
            ):
                message.feedback = rating

    def _handoff(self, kind: str, data: dict[str, Any]) -> None:
        state = self.handoff
        state.requested, state.status = True, _HANDOFF_STATUS[kind]
        state.team, state.reason = (
            _str(data.get("team")) or state.team,
            _str(data.get("reason")) or state.reason,
        )
        state.agent = _str(data.get("agent")) if kind == "handoff.claimed" else state.agent

    def _approval(self, data: dict[str, Any]) -> None:
        preview = self.previews.get(str(data.get("preview_id")))
        status = data.get("status")
        if preview is not None and status in ("waiting", "approved", "rejected", "executed", "failed"):
            preview.approval = status
            if status == "executed":
                preview.status = "executed"

    def _turn_started(self, data: dict[str, Any], turn_id: str | None, seq: int) -> None:
        if isinstance(data.get("text"), str):
            self.messages.append(TranscriptMessage(role="user", text=data["text"], turn_id=turn_id, seq=seq))
        resume = data.get("resume")
        if isinstance(resume, dict) and str(resume.get("preview_id")) in self.previews:
            preview = self.previews[str(resume["preview_id"])]
            preview.status = "approved" if resume.get("approved") else "rejected"

    def _tool(self, kind: str, data: dict[str, Any], turn_id: str | None) -> None:
        tool = _str(data.get("tool")) or _str(data.get("name")) or "?"
        raw_error = data.get("error")
        error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
        self.tools.append(
            ToolActivity(
                tool=tool,
                outcome=_TOOL_OUTCOMES[kind],
                turn_id=turn_id,
                call_id=_str(data.get("call_id")),
                code=_str(data.get("code")) or _str(error.get("code")),
                message=_str(data.get("message")) or _str(error.get("message")),
            )
        )
        preview_id, call_id = _str(data.get("preview_id")), _str(data.get("call_id"))
        if kind == "tool.preview" and preview_id:
            self.previews[preview_id] = PreviewState(
                preview_id=preview_id,
                tool=tool,
                summary=_str(data.get("summary")),
                expires_at=_str(data.get("expires_at")),
            )
            if call_id:
                self._preview_calls[call_id] = preview_id
        elif kind == "tool.executed" and call_id in self._preview_calls:
            self.previews[self._preview_calls[call_id]].status = "executed"


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _citations(raw: object) -> list[Citation]:
    if not isinstance(raw, list):
        return []
    out: list[Citation] = []
    for item in raw:
        if isinstance(item, str):
            out.append(Citation(id=item))
        elif isinstance(item, dict) and isinstance(item.get("id"), str):
            out.append(Citation(id=item["id"], title=_str(item.get("title"))))
    return out


def build_transcript(conversation: Conversation, events: list[StoredEvent], *, running: bool) -> Transcript:
    """Fold the event log into a transcript."""
    builder = _Builder()
    for event in events:
        builder.add(event)
    return Transcript(
        id=conversation.id,
        status="handoff"
        if builder.handoff.requested and builder.handoff.status != "closed"
        else conversation.status,
        customer=conversation.customer,
        running=running,
        last_event_id=events[-1]["seq"] if events else 0,
        messages=builder.messages,
        tools=builder.tools,
        previews=list(builder.previews.values()),
        handoff=builder.handoff,
    )
