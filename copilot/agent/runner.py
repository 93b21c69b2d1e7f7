"""run_turn: drive one turn (a new user message, or the resume of a pending confirmation) and append its
wire events to the conversation's event sink.

Durability: checkpoints are written with durability="exit" — once when the run stops (finished,
interrupted for confirmation, or failed) instead of after every step. The default ("async") costs a write
per super-step (~8 ms each on SQLite). The trade-off: if the process dies mid-turn, the turn restarts from
the previous checkpoint; that is safe because every side effect sits behind the gateway (previews are
stored, executions are idempotent per preview/call id) and a confirmation always waits at an interrupt,
which is persisted before the turn returns."""

from __future__ import annotations

import logging
from typing import Any, Literal, cast

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphRecursionError
from langgraph.pregel import Pregel
from langgraph.types import Command, Durability

from copilot.coalesce import DeltaCoalescer, FlushPolicy
from copilot.errors import CopilotError, ErrorCode
from copilot.events import Event, EventSink
from copilot.principal import Principal

log = logging.getLogger(__name__)

TurnStatus = Literal["completed", "awaiting_confirmation", "handoff", "failed"]
DURABILITY: Durability = "exit"
RECURSION_LIMIT = 40


def turn_config(conversation_id: str, turn_id: str, principal: Principal) -> RunnableConfig:
    """The run config: thread = conversation; the principal lives here, never in model-writable state."""
    return {
        "configurable": {
            "thread_id": conversation_id,
            "conversation_id": conversation_id,
            "turn_id": turn_id,
            "principal": principal,
        },
        "recursion_limit": RECURSION_LIMIT,
    }


def _delta(chunk: Any) -> dict[str, Any] | None:
    """message.delta data for a streamed plan-node chunk with text (tool-call chunks carry none).
    `message_id` changes when the model answers again (e.g. after a validation repair)."""
    message, meta = chunk
    if meta.get("langgraph_node") != "plan" or not isinstance(message, AIMessage) or not message.text:
        return None
    return {"text": message.text, "message_id": message.id}


async def _stream(
    graph: Pregel[Any, Any, Any, Any], payload: Any, config: RunnableConfig, sink: EventSink, turn_id: str
) -> TurnStatus:
    status: TurnStatus = "completed"
    may_wait = isinstance(payload, Command)  # a resume may reach the next pending preview
    async for mode, chunk in graph.astream(
        payload, config, stream_mode=["messages", "custom"], durability=DURABILITY
    ):
        if mode == "messages":
            delta = _delta(chunk)
            if delta:
                await sink.emit("message.delta", delta, turn_id=turn_id)
        elif mode == "custom":
            event = cast(Event, chunk)
            await sink.emit(event["type"], event["data"], turn_id=turn_id)
            if event["type"] == "handoff.requested":
                status = "handoff"
            may_wait = may_wait or event["type"] == "tool.preview"
    if may_wait and (await graph.aget_state(config)).interrupts:
        # Only turns that previewed a write (or resumed one) pay for this state read.
        status = "awaiting_confirmation"
    return status


async def check_resume(
    graph: Pregel[Any, Any, Any, Any], config: RunnableConfig, resume: dict[str, Any]
) -> None:
    """Refuse a resume that does not answer the pending confirmation (before it reaches the graph)."""
    snapshot = await graph.aget_state(config)
    previews = [i.value.get("preview", {}) for i in snapshot.interrupts if isinstance(i.value, dict)]
    if not previews:
        raise CopilotError(
            ErrorCode.CONFIRMATION_INVALID,
            "Nothing in this conversation is awaiting confirmation; send a new message instead.",
        )
    if resume.get("preview_id") not in {p.get("preview_id") for p in previews}:
        raise CopilotError(
            ErrorCode.CONFIRMATION_MISMATCH,
            f"The pending preview is {previews[0].get('preview_id')}; confirm or reject that one.",
        )
    if not isinstance(resume.get("approved"), bool):
        raise CopilotError(
            ErrorCode.BAD_REQUEST, 'Resume with {"preview_id": "...", "approved": true|false}.'
        )


async def run_turn(
    graph: Pregel[Any, Any, Any, Any],
    *,
    conversation_id: str,
    turn_id: str,
    principal: Principal,
    sink: EventSink,
    text: str | None = None,
    resume: dict[str, Any] | None = None,
    flush: FlushPolicy | None = None,
) -> None:
    """Run one turn: `text` starts it, `resume` ({"preview_id", "approved"}) continues a confirmation.
    Always ends with turn.completed {status}; failures emit error {code, message} first."""
    sink = DeltaCoalescer(sink, flush)  # merges token deltas; flushed before every other event
    config = turn_config(conversation_id, turn_id, principal)
    payload: Any = Command(resume=resume) if resume is not None else {"messages": [HumanMessage(text or "")]}
    try:
        if resume is not None:
            await check_resume(graph, config, resume)
        status = await _stream(graph, payload, config, sink, turn_id)
    except CopilotError as exc:
        await sink.emit("error", {"code": exc.code.value, "message": exc.message}, turn_id=turn_id)
        status = "failed"
    except GraphRecursionError:
        message = "The assistant took too many steps on this request; rephrase it or ask for a human agent."
        await sink.emit("error", {"code": ErrorCode.INTERNAL.value, "message": message}, turn_id=turn_id)
        status = "failed"
    except Exception:
        log.exception("turn %s of conversation %s failed", turn_id, conversation_id)
        message = "The assistant hit an internal error; please try again or ask for a human agent."
        await sink.emit("error", {"code": ErrorCode.INTERNAL.value, "message": message}, turn_id=turn_id)
        status = "failed"
    await sink.emit("turn.completed", {"status": status}, turn_id=turn_id)
