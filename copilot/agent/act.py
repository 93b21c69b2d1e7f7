"""act: every tool call of the last model message goes through the gateway. Reads execute; writes come
back as previews that wait for the human (their ToolMessage is added once decided); denials and invalid
arguments go back to the model as tool results it can act on."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from langchain_core.messages import AIMessage, ToolCall, ToolMessage
from langchain_core.runnables import RunnableConfig

from copilot.agent.deps import GatewayPort
from copilot.agent.emit import emit
from copilot.agent.state import (
    TRANSFER_TOOL,
    ActionRecord,
    PendingPreview,
    SupportState,
    conversation_of,
    principal_of,
)
from copilot.errors import CopilotError
from copilot.events import EventType
from copilot.gateway.result import GatewayResult
from copilot.principal import Principal

_EVENT: dict[str, EventType] = {
    "executed": "tool.executed",
    "preview": "tool.preview",
    "denied": "tool.denied",
    "invalid": "tool.invalid",
    "error": "tool.error",
}


def result_event(call_id: str, result: GatewayResult) -> tuple[EventType, dict[str, Any]]:
    """The wire event for one gateway outcome."""
    data: dict[str, Any] = {"call_id": call_id, "tool": result.tool, "decision_id": result.decision_id}
    if result.outcome == "executed":
        data["result"] = result.result
    elif result.outcome == "preview" and result.preview is not None:
        data |= result.preview.to_dict()
    else:
        data |= {"code": result.code, "message": result.message}
    return _EVENT[result.outcome], data


def _approval(principal: Principal, result: GatewayResult) -> dict[str, Any]:
    details = result.details
    return {
        "approval_id": details["approval_id"],
        "tool": result.tool,
        "arguments": result.arguments,
        "amount": details.get("amount"),
        "limit": details.get("limit"),
        "requested_by": principal.label(),
    }


def error_message(call: ToolCall, exc: CopilotError) -> ToolMessage:
    body = {"ok": False, "error": {"code": exc.code.value, "message": exc.message}}
    return ToolMessage(
        content=json.dumps(body), tool_call_id=str(call["id"]), name=call["name"], status="error"
    )


async def _call(gateway: GatewayPort, principal: Principal, call: ToolCall, conversation: str | None) -> Any:
    call_id = str(call["id"])
    emit("tool.requested", {"call_id": call_id, "tool": call["name"], "arguments": call["args"]})
    try:
        result = await asyncio.to_thread(
            gateway.call, principal, call["name"], call["args"], conversation_id=conversation
        )
    except CopilotError as exc:
        emit("tool.error", {"call_id": call_id, "tool": call["name"], **exc.to_dict()})
        return error_message(call, exc), ActionRecord(call_id=call_id, tool=call["name"], outcome="error")
    kind, data = result_event(call_id, result)
    emit(kind, data)
    if "approval_id" in result.details:  # over the limit: a supervisor's inbox now holds the request
        emit("approval.requested", _approval(principal, result))
    action = ActionRecord(call_id=call_id, tool=call["name"], outcome=result.outcome)
    if result.outcome == "preview" and result.preview is not None:
        action["preview_id"] = result.preview.preview_id
        pending = PendingPreview(
            call_id=call_id, tool=call["name"], preview_id=result.preview.preview_id, preview=data
        )
        return pending, action
    content = json.dumps(result.for_model(), default=str)
    status = "success" if result.ok else "error"
    return ToolMessage(content=content, tool_call_id=call_id, name=call["name"], status=status), action


def make_act(gateway: GatewayPort) -> Any:
    async def act(state: SupportState, config: RunnableConfig) -> dict[str, Any]:
        principal, conversation = principal_of(config), conversation_of(config)
        last = state["messages"][-1]
        calls = last.tool_calls if isinstance(last, AIMessage) else []
        messages: list[ToolMessage] = []
        pending = list(state.get("pending", []))
        actions = list(state.get("actions", []))
        update: dict[str, Any] = {}
        for call in calls:
            out, action = await _call(gateway, principal, call, conversation)
            actions.append(action)
            if isinstance(out, ToolMessage):
                messages.append(out)
            else:
                pending.append(out)
            if call["name"] == TRANSFER_TOOL:
                summary = str(call["args"].get("summary", "")) if isinstance(call["args"], dict) else ""
                update["handoff"] = {"reason": "model_request", "summary": summary}
        return update | {"messages": messages, "pending": pending, "actions": actions}

    return act
