"""act: every tool call of the last model message goes through the gateway. Reads execute; writes come
back as previews that wait for the human (their ToolMessage is added once decided); denials and invalid
arguments go back to the model as tool results it can act on, including calls whose arguments did not even
parse (`invalid_tool_calls`). The same call failing `repeat_limit` times in one turn ends in a handoff; a
write is dry-run once per turn and never by a repair (copilot/agent/once.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection
from typing import Any

from langchain_core.messages import AIMessage, ToolCall, ToolMessage
from langchain_core.runnables import RunnableConfig

from copilot.agent.deps import GatewayPort
from copilot.agent.emit import emit
from copilot.agent.hygiene import FAILED_OUTCOMES, invalid_result, signature
from copilot.agent.once import refusal
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

OVER_BUDGET = "Not run: this turn already used its tool-call budget. Answer with what you have."
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


def _invalid(last: AIMessage) -> tuple[list[ToolMessage], list[ActionRecord], list[str]]:
    """Results for calls whose arguments did not parse: nothing ran, the model is told what to fix."""
    messages, actions, signatures = [], [], []
    for call in last.invalid_tool_calls:
        if not call.get("id"):
            continue
        call_id, name = str(call["id"]), str(call.get("name") or "unknown")
        message, data = invalid_result(call_id, name, call.get("error"))
        emit("tool.invalid", data)
        messages.append(message)
        actions.append(ActionRecord(call_id=call_id, tool=name, outcome="invalid"))
        signatures.append(signature(name, call.get("args") or ""))
    return messages, actions, signatures


def _repeated(failed: list[str], limit: int) -> str | None:
    """The signature that failed `limit` times in this turn, if any."""
    return next((sig for sig in dict.fromkeys(failed) if failed.count(sig) >= limit), None)


def _over_budget(call: ToolCall) -> ToolMessage:
    body = {"ok": False, "error": {"code": "turn_budget_exceeded", "message": OVER_BUDGET}}
    return ToolMessage(
        content=json.dumps(body), tool_call_id=str(call["id"]), name=call["name"], status="error"
    )


def make_act(
    gateway: GatewayPort,
    repeat_limit: int = 2,
    tool_budget: int | None = None,
    writes: Collection[str] = (),
) -> Any:
    """`writes`: the names of the write tools (previewed once per turn, never by a repair)."""

    async def act(state: SupportState, config: RunnableConfig) -> dict[str, Any]:
        principal, conversation = principal_of(config), conversation_of(config)
        last = state["messages"][-1]
        calls = last.tool_calls if isinstance(last, AIMessage) else []
        messages, actions, failed = _invalid(last) if isinstance(last, AIMessage) else ([], [], [])
        pending = list(state.get("pending", []))
        actions = [*state.get("actions", []), *actions]
        failed = [*state.get("failures", []), *failed]
        update: dict[str, Any] = {}
        spent = state.get("spent", {}).get("tool_calls", 0)  # plan counted this message's calls already
        allowed = len(calls) if tool_budget is None else tool_budget - (spent - len(calls))
        for n, call in enumerate(calls):
            if n >= allowed:  # past the turn's tool-call budget: answered, not run
                messages.append(_over_budget(call))
                continue
            if (refused := refusal(call, actions, writes, state.get("repairs", 0) > 0)) is not None:
                messages.append(refused)
                continue
            out, action = await _call(gateway, principal, call, conversation)
            action["signature"] = signature(call["name"], call["args"])
            actions.append(action)
            if isinstance(out, ToolMessage):
                messages.append(out)
            else:
                pending.append(out)
            if action["outcome"] in FAILED_OUTCOMES:
                failed.append(signature(call["name"], call["args"]))
            if call["name"] == TRANSFER_TOOL:
                summary = str(call["args"].get("summary", "")) if isinstance(call["args"], dict) else ""
                update["handoff"] = {"reason": "model_request", "summary": summary}
        if not update and _repeated(failed, repeat_limit):
            tools = ", ".join(sorted({a["tool"] for a in actions if a["outcome"] in FAILED_OUTCOMES}))
            summary = f"The assistant repeated a failing tool call ({tools}) with the same arguments."
            update["handoff"] = {"reason": "repeated_tool_failure", "summary": summary}
        return update | {"messages": messages, "pending": pending, "actions": actions, "failures": failed}

    return act
