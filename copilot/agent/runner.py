"""run_turn: drive one turn (a new user message, or the resume of a pending confirmation) and append its
wire events to the conversation's event sink; the turn scheduler writes turn.started/turn.completed.

Durability (LangGraph checkpoints), chosen per kind of turn:
- a message turn checkpoints once, when its run stops ("exit": finished, or parked at a confirmation): its
  input lives in the durable turn job, so a turn cut mid-run is simply run again from that input (at most it
  previews a write once more; nothing executes in a message turn). A checkpoint per step ("async") cost
  ~11 ms of CPU per help answer here (27 vs 16 ms), for a recovery that re-running gives for free;
- a confirmation's resume (the write path: confirm → execute → plan) checkpoints every step before the next
  starts ("sync"): once `execute` returned, its result is in the checkpoint before the model sees it.
The answer streams only once validate passed it (message.completed), so the model's own token stream would
be held anyway: the graph runs with "updates" (a node's output, once per node) instead of "messages" (a
LangChain callback and an asyncio task per token in every model call), and the passed answer is sent as
word-token deltas, which the coalescer merges by its flush policy exactly as it merged the model's tokens.
A recovered turn (its worker died) continues from the last checkpoint: a step cut mid-way runs again, which
is safe because every side effect sits behind the gateway (previews are stored; an approved preview executes
once and a repeat returns the executions-ledger result), so the history records what really happened.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphRecursionError
from langgraph.pregel import Pregel
from langgraph.types import Command, Durability

from copilot.coalesce import DeltaCoalescer, FlushPolicy
from copilot.errors import CopilotError, ErrorCode
from copilot.events import Event, EventSink
from copilot.llm.chunks import word_tokens
from copilot.llm.errors import MODEL_CODES, ModelError
from copilot.principal import Principal
from copilot.prompts.templates import PROMPTS_KEY, PromptSet
from copilot.turns.request import TurnStatus

log = logging.getLogger(__name__)

DURABILITY: Durability = "exit"
"""Message turns."""
RESUME_DURABILITY: Durability = "sync"
"""Confirmation resumes (the write path)."""
RECURSION_LIMIT = 40
WRITE_NODES = ["execute"]
"""Where a resume pauses, with `may_answer`, before the model answers after the write."""
_FINISHED = object()
"""A recovered turn whose graph run had already ended: nothing left to stream."""


def turn_config(
    conversation_id: str, turn_id: str, principal: Principal, prompts: PromptSet | None = None
) -> RunnableConfig:
    """The run config: thread = conversation; the principal and the turn's published prompt set live here,
    never in model-writable state (no prompt set: the graph's built-in one)."""
    configurable: dict[str, Any] = {
        "thread_id": conversation_id,
        "conversation_id": conversation_id,
        "turn_id": turn_id,
        "principal": principal,
    }
    if prompts is not None:
        configurable[PROMPTS_KEY] = prompts
    return {"configurable": configurable, "recursion_limit": RECURSION_LIMIT}


def _answer(update: Any) -> AIMessage | None:
    """The model message of a plan-node update (None for other nodes and interrupts).
    Its id changes when the model answers again (e.g. after a validation repair)."""
    if not isinstance(update, dict):
        return None
    output = update.get("plan")
    messages = output.get("messages") if isinstance(output, dict) else None
    last = messages[-1] if messages else None
    return last if isinstance(last, AIMessage) else None


def _passed(answer: AIMessage | None, completed: dict[str, Any]) -> list[dict[str, Any]]:
    """The deltas of the answer validate passed (the last model message, when its text is the answer);
    earlier drafts, text beside tool calls and a handed-off turn's drafts are never sent."""
    if completed.get("handoff") or answer is None or not answer.text:
        return []
    if answer.text.strip() != str(completed.get("text", "")).strip():
        return []
    return [{"text": token, "message_id": answer.id} for token in word_tokens(answer.text)]


async def _stream(
    graph: Pregel[Any, Any, Any, Any], payload: Any, config: RunnableConfig, sink: EventSink, *,
    turn_id: str, durability: Durability, writes: list[str], hold: list[str] | None = None,
) -> TurnStatus:  # fmt: skip
    status: TurnStatus = "completed"
    may_wait = payload is None or isinstance(payload, Command)  # a resume may reach the next pending preview
    answer: AIMessage | None = None  # the model's last message, streamed once validate passes it
    async for mode, chunk in graph.astream(
        payload, config, stream_mode=["updates", "custom"], durability=durability, interrupt_after=hold
    ):
        if mode == "updates":
            answer = _answer(chunk) or answer
        elif mode == "custom":
            event = cast(Event, chunk)
            if event["type"] == "message.completed":
                for passed in _passed(answer, event["data"]):
                    await sink.emit("message.delta", passed, turn_id=turn_id)
                answer = None
            await sink.emit(event["type"], event["data"], turn_id=turn_id)
            if event["type"] == "handoff.requested":
                status = "handoff"
            elif event["type"] == "tool.executed" and "preview_id" in event["data"]:
                writes.append(str(event["data"]["tool"]))
            may_wait = may_wait or event["type"] == "tool.preview"
    if may_wait and (await graph.aget_state(config)).interrupts:
        # Only turns that previewed a write (or resumed one) pay for this state read.
        status = "awaiting_confirmation"
    return status


def error_data(exc: CopilotError, writes: list[str]) -> dict[str, Any]:
    """The `error` event of a failed turn. Model failures offer a human; a change that was already made in
    this turn is said first, so the customer is never told to retry something that happened."""
    message = exc.message
    if writes:
        done = ", ".join(dict.fromkeys(w.replace("_", " ") for w in writes))
        message = f"Your requested change was made ({done}). {message}"
    data: dict[str, Any] = {"code": exc.code.value, "message": message}
    if exc.code in MODEL_CODES:
        data["handoff"] = "offered"
    return data


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


async def _recovery_payload(
    graph: Pregel[Any, Any, Any, Any], config: RunnableConfig, turn_id: str, text: str | None,
    resume: dict[str, Any] | None,
) -> Any:  # fmt: skip
    """Where a recovered turn continues: the pending confirmation again, the last checkpoint (None), the
    original input (never checkpointed), or nowhere (_FINISHED: the run had ended before the crash)."""
    snapshot = await graph.aget_state(config)
    waiting = [i.value.get("preview", {}) for i in snapshot.interrupts if isinstance(i.value, dict)]
    if resume is not None:
        if resume.get("preview_id") in {p.get("preview_id") for p in waiting}:
            return Command(resume=resume)
        return None if snapshot.tasks and not waiting else _FINISHED
    # `tasks`, not `next`: a task whose writes were saved before the crash is no longer in `next`
    if snapshot.tasks and not waiting:
        return None  # cut mid-run (turns of a conversation are serial, so the run is this turn's)
    if snapshot.values.get("turn_id") == turn_id:
        return _FINISHED
    return {"messages": [HumanMessage(text or "")]}


async def _payload(
    graph: Pregel[Any, Any, Any, Any], config: RunnableConfig, *, turn_id: str, text: str | None,
    resume: dict[str, Any] | None, attempt: int,
) -> Any:  # fmt: skip
    if attempt > 1:
        return await _recovery_payload(graph, config, turn_id, text, resume)
    if resume is not None:
        await check_resume(graph, config, resume)
        return Command(resume=resume)
    return {"messages": [HumanMessage(text or "")]}


async def _held(graph: Pregel[Any, Any, Any, Any], config: RunnableConfig) -> bool:
    """The run stopped after `execute` (interrupt_after), its next step (the model's answer) still to run."""
    snapshot = await graph.aget_state(config)
    return bool(snapshot.next) and not snapshot.interrupts


async def _write_ahead(graph: Pregel[Any, Any, Any, Any], config: RunnableConfig) -> bool:
    """A recovered resume's checkpoint still has its write (`execute`) to run."""
    snapshot = await graph.aget_state(config)
    return any(task.name in WRITE_NODES for task in snapshot.tasks)


async def _status_now(graph: Pregel[Any, Any, Any, Any], config: RunnableConfig) -> TurnStatus:
    snapshot = await graph.aget_state(config)
    return "awaiting_confirmation" if snapshot.interrupts else "completed"


async def run_turn(
    graph: Pregel[Any, Any, Any, Any],
    *,
    conversation_id: str,
    turn_id: str,
    principal: Principal,
    sink: EventSink,
    text: str | None = None,
    resume: dict[str, Any] | None = None,
    attempt: int = 1,
    flush: FlushPolicy | None = None,
    prompts: PromptSet | None = None,
    may_answer: Callable[[], Awaitable[bool]] | None = None,
) -> TurnStatus:
    """Run one turn: `text` starts it, `resume` ({"preview_id", "approved"}) continues a confirmation; a
    recovered turn (`attempt` > 1) continues from its last checkpoint. With `may_answer`, a resume pauses
    after its write (`execute`) and asks it: False ends the turn there ("handoff": a human owns the
    conversation; no model call, no answer). Returns the turn's status; failures emit error {code, message}
    first and return "failed"."""
    sink = coalesced = DeltaCoalescer(sink, flush)  # token deltas merged; flushed before other events, at end
    config = turn_config(conversation_id, turn_id, principal, prompts)
    durability = RESUME_DURABILITY if resume is not None else DURABILITY
    writes: list[str] = []
    try:
        payload = await _payload(graph, config, turn_id=turn_id, text=text, resume=resume, attempt=attempt)
        if payload is _FINISHED:
            return await _status_now(graph, config)
        hold = WRITE_NODES if may_answer is not None and resume is not None else None
        recovered_after_write = payload is None and hold is not None and not await _write_ahead(graph, config)
        if may_answer is not None and recovered_after_write and not await may_answer():
            await coalesced.flush()  # cut after its write, and a human owns the conversation now
            return "handoff"
        status = await _stream(
            graph, payload, config, sink, turn_id=turn_id, durability=durability, writes=writes, hold=hold
        )
        if may_answer is not None and hold is not None and await _held(graph, config):
            if not await may_answer():
                await coalesced.flush()
                return "handoff"
            status = await _stream(
                graph, None, config, sink, turn_id=turn_id, durability=durability, writes=writes
            )
        await coalesced.flush()  # the scheduler writes turn.completed itself
        return status
    except CopilotError as exc:
        await sink.emit("error", error_data(exc, writes), turn_id=turn_id)
    except GraphRecursionError:
        steps = ModelError(
            ErrorCode.TURN_BUDGET_EXCEEDED, f"recursion limit {RECURSION_LIMIT}", retryable=False
        )
        await sink.emit("error", error_data(steps, writes), turn_id=turn_id)
    except Exception:
        log.exception("turn %s of conversation %s failed", turn_id, conversation_id)
        message = "The assistant hit an internal error; please try again or ask for a human agent."
        await sink.emit("error", {"code": ErrorCode.INTERNAL.value, "message": message}, turn_id=turn_id)
    return "failed"
