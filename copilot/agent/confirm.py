"""confirm + execute: the human's half of a write. `confirm` only interrupts (LangGraph re-runs a node from
its top on resume, so it has no side effect); `execute` asks the gateway to run the approved preview. The
resume value is routing only: the gateway checks the approval the API recorded via Gateway.decide, so a
resume value (or any "yes" in model or tool text) can never authorise a write by itself."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.types import interrupt

from copilot.agent.act import result_event
from copilot.agent.deps import GatewayPort
from copilot.agent.emit import emit
from copilot.agent.state import ActionRecord, Decision, PendingPreview, SupportState, principal_of
from copilot.errors import CopilotError, ErrorCode
from copilot.faults import crash_point
from copilot.prompts.templates import builtin, prompts_of

_FALLBACK = builtin("")


def parse_decision(value: object, pending: PendingPreview) -> Decision | None:
    """{"preview_id": <the pending one>, "approved": bool} → Decision; anything else → None."""
    if not isinstance(value, dict) or not isinstance(value.get("approved"), bool):
        return None
    if value.get("preview_id") != pending["preview_id"]:
        return None
    return Decision(preview_id=pending["preview_id"], approved=value["approved"])


def ask(pending: PendingPreview) -> Decision:
    """Interrupt until a well-formed decision for this preview arrives (the runner rejects bad resume
    values before they reach the graph; this loop keeps the thread resumable if one slips through)."""
    value = interrupt({"preview": pending["preview"]})
    while (decision := parse_decision(value, pending)) is None:
        value = interrupt({"preview": pending["preview"], "retry": True})
    return decision


def _set_outcome(actions: list[ActionRecord], call_id: str, outcome: str) -> list[ActionRecord]:
    return [ActionRecord(**{**a, "outcome": outcome}) if a["call_id"] == call_id else a for a in actions]


async def confirm(state: SupportState, config: RunnableConfig) -> dict[str, Any]:
    pending = state["pending"][0]
    decision = ask(pending)
    if decision["approved"]:
        return {"decision": decision}
    declined = prompts_of(config, _FALLBACK).text("declined")
    body = {"ok": False, "error": {"code": "declined", "message": declined}}
    message = ToolMessage(content=json.dumps(body), tool_call_id=pending["call_id"], name=pending["tool"])
    return {
        "decision": decision,
        "pending": state["pending"][1:],
        "messages": [message],
        "actions": _set_outcome(state.get("actions", []), pending["call_id"], "declined"),
    }


def make_execute(gateway: GatewayPort) -> Any:
    async def execute(state: SupportState, config: RunnableConfig) -> dict[str, Any]:
        pending = state["pending"][0]
        call_id, tool = pending["call_id"], pending["tool"]
        try:
            result = await asyncio.to_thread(gateway.execute, principal_of(config), pending["preview_id"])
            crash_point("execute.committed")
        except CopilotError as exc:
            emit("tool.error", {"call_id": call_id, "tool": tool, **exc.to_dict()})
            body, outcome, status = {"ok": False, "error": exc.to_dict()}, "error", "error"
        else:
            if result.code != ErrorCode.APPROVAL_PENDING.value:  # waiting: its approval.status event was
                kind, data = result_event(call_id, result)  # committed with the customer's confirmation
                emit(kind, data | {"preview_id": pending["preview_id"]})  # a write (the runner tracks these)
            body, outcome = result.for_model(), result.outcome
            status = "success" if result.ok else "error"
        message = ToolMessage(
            content=json.dumps(body, default=str), tool_call_id=call_id, name=tool, status=status
        )
        return {
            "decision": None,
            "pending": state["pending"][1:],
            "messages": [message],
            "actions": _set_outcome(state.get("actions", []), call_id, outcome),
        }

    return execute
