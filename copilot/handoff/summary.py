"""The structured handoff summary an agent reads first: who, what they want, what was tried, tool results
and previews still awaiting a decision. Built deterministically from the conversation's event log."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TypedDict

from copilot.events import StoredEvent

_HUMAN = re.compile(r"\b(human|person|agent|representative|someone|somebody)\b", re.IGNORECASE)
_MAX_TEXT = 300
_MAX_RESULT = 400


class ToolResult(TypedDict):
    tool: str
    outcome: str
    detail: str


class OpenPreview(TypedDict):
    preview_id: str
    tool: str
    summary: str


class Summary(TypedDict):
    customer: str
    intent: str
    tried: list[str]
    tool_results: list[ToolResult]
    open_previews: list[OpenPreview]


def customer_texts(events: Sequence[StoredEvent]) -> list[str]:
    """What the customer wrote, oldest first (bot turns and messages sent while a human owned it)."""
    texts: list[str] = []
    for event in events:
        text = event["data"].get("text")
        if event["type"] in ("turn.started", "message.user") and isinstance(text, str):
            texts.append(text.strip())
    return [t for t in texts if t]


def intent_of(texts: Sequence[str], reason: str = "") -> str:
    """The customer's request: their latest message that is not only asking for a human."""
    for text in reversed(texts):
        if not _HUMAN.search(text) or len(text.split()) > 12:
            return text[:_MAX_TEXT]
    return (texts[-1] if texts else reason)[:_MAX_TEXT]


def _detail(event: StoredEvent) -> str:
    data = event["data"]
    if event["type"] == "tool.executed":
        return json.dumps(data.get("result"), default=str, ensure_ascii=False)[:_MAX_RESULT]
    if event["type"] == "tool.preview":
        return str(data.get("summary", ""))[:_MAX_RESULT]
    return str(data.get("message", ""))[:_MAX_RESULT]


_OUTCOMES = {
    "tool.executed": "executed",
    "tool.preview": "preview",
    "tool.denied": "denied",
    "tool.invalid": "invalid",
    "tool.error": "error",
}


def _open_previews(events: Sequence[StoredEvent]) -> list[OpenPreview]:
    previews: dict[str, OpenPreview] = {}
    for event in events:
        data = event["data"]
        if event["type"] == "tool.preview" and isinstance(data.get("preview_id"), str):
            previews[data["preview_id"]] = OpenPreview(
                preview_id=data["preview_id"],
                tool=str(data.get("tool", "")),
                summary=str(data.get("summary", "")),
            )
        resume = data.get("resume") if event["type"] == "turn.started" else None
        if isinstance(resume, dict):
            previews.pop(str(resume.get("preview_id")), None)
        elif event["type"] in ("turn.started", "handoff.released"):
            previews.clear()  # a new message (or the hand-back) abandons unconfirmed previews
    return list(previews.values())


def build_summary(customer: str, events: Sequence[StoredEvent], reason: str = "") -> Summary:
    """Fold the event log into the handoff summary."""
    results = [
        ToolResult(tool=str(e["data"].get("tool", "?")), outcome=_OUTCOMES[e["type"]], detail=_detail(e))
        for e in events
        if e["type"] in _OUTCOMES and e["data"].get("tool") != "transfer_to_human_agents"
    ]
    tried = [f"{r['tool']} → {r['outcome']}" for r in results]
    answers = sum(1 for e in events if e["type"] == "message.completed" and not e["data"].get("handoff"))
    if answers:
        tried.append(f"the copilot answered {answers} time(s)")
    return Summary(
        customer=customer,
        intent=intent_of(customer_texts(events), reason),
        tried=tried,
        tool_results=results[-10:],
        open_previews=_open_previews(events),
    )
