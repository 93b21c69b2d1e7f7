"""A write is dry-run once: the same change (tool + canonical arguments) previewed earlier in the turn is not
previewed again, and a validation repair never starts a write at all (it only rewrites the answer). Without
this, a model that re-issued its call while repairing an answer left a second pending preview of the same
change beside the first, or asked the customer to confirm a change that had already been made."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence

from langchain_core.messages import ToolCall, ToolMessage

from copilot.agent.hygiene import signature
from copilot.agent.state import ActionRecord

HANDLED = frozenset({"preview", "executed", "declined", "denied"})
"""What became of a previewed write that makes a repeat pointless (an `error`, e.g. an expired preview, may
be previewed afresh)."""
_STATE = {
    "preview": "is awaiting the customer's confirmation",
    "executed": "was made",
    "declined": "was declined by the customer",
    "denied": "was stopped by the gateway",
}
REPAIR = (
    "Not run: changes are never started while repairing an answer. Answer again from the tool results "
    "above without calling this tool."
)


def earlier(actions: Sequence[ActionRecord], sig: str) -> ActionRecord | None:
    """The turn's earlier preview of the same change, if it was handled (pending, made, declined, stopped)."""
    return next(
        (a for a in actions if a.get("signature") == sig and "preview_id" in a and a["outcome"] in HANDLED),
        None,
    )


def _result(call: ToolCall, code: str, message: str, **extra: str) -> ToolMessage:
    body = {"ok": False, "error": {"code": code, "message": message, **extra}}
    return ToolMessage(
        content=json.dumps(body), tool_call_id=str(call["id"]), name=call["name"], status="error"
    )


def refusal(
    call: ToolCall, actions: Sequence[ActionRecord], writes: Collection[str], repairing: bool
) -> ToolMessage | None:
    """The tool result that answers a write call instead of the gateway, or None when it may run."""
    if call["name"] not in writes:
        return None
    if repairing:
        return _result(call, "not_run", REPAIR)
    before = earlier(actions, signature(call["name"], call["args"]))
    if before is None:
        return None
    message = (
        f"Not run again: this exact change {_STATE[before['outcome']]} earlier in this turn "
        f"(preview {before['preview_id']}). Do not call it again; answer from its result."
    )
    return _result(call, "already_handled", message, preview_id=before["preview_id"])
