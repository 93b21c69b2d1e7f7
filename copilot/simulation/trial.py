"""One simulated conversation against the real runtime: the same graph, gateway and confirmation path as
`copilot chat` and the API (System.runner for turns, Gateway.decide for the customer's decision)."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from copilot.errors import CopilotError
from copilot.events import EventType
from copilot.principal import Principal
from copilot.simulation.metrics import Usage
from copilot.simulation.users import Decide, Move, Observation, Say, Stop, UserSimulator, usage_of
from copilot.turns.request import TurnRequest, new_turn_id
from copilot.wiring import System


class TurnEvents:
    """An EventSink that keeps one turn's events."""

    def __init__(self) -> None:
        self.events: list[tuple[EventType, dict[str, Any]]] = []

    async def emit(self, type: EventType, data: dict[str, Any], *, turn_id: str | None = None) -> int:
        self.events.append((type, data))
        return len(self.events)

    def of(self, kind: EventType) -> list[dict[str, Any]]:
        return [data for type_, data in self.events if type_ == kind]


@dataclass
class Transcript:
    """What happened in one conversation."""

    conversation_id: str
    assistant_texts: list[str] = field(default_factory=list)
    customer_turns: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    """Wall time of every assistant turn (a message or a confirmation's resume)."""
    events: list[tuple[EventType, dict[str, Any]]] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    """Tokens the copilot's model reported."""
    user_usage: Usage = field(default_factory=Usage)
    """Tokens the simulated customer's model reported."""
    ended_by: str = "user"
    """user (stopped) | handoff | max_turns."""
    dialogue: list[tuple[str, str]] = field(default_factory=list)
    """(customer | assistant, text) in order, as the customer saw it (what a judge model reads)."""

    def count(self, kind: EventType) -> int:
        return sum(1 for type_, _ in self.events if type_ == kind)

    @property
    def handed_off(self) -> bool:
        return self.count("handoff.requested") > 0


async def _turn(system: System, transcript: Transcript, request: TurnRequest) -> Observation:
    sink = TurnEvents()
    started = time.perf_counter()
    await system.runner(request, sink)
    transcript.latencies_ms.append((time.perf_counter() - started) * 1000)
    transcript.events += sink.events
    texts = [str(d.get("text", "")) for d in sink.of("message.completed")]
    texts += [str(d.get("message", "")) for d in sink.of("error")]  # the customer sees the error's message
    transcript.assistant_texts += texts
    pending = await system.pending_previews(request.conversation_id)
    previews = [p for p in sink.of("tool.preview") if p.get("preview_id") in pending]
    shown = [*texts, *(f"[Confirmation card] {p.get('summary', '')}" for p in previews)]
    transcript.dialogue += [("assistant", text) for text in shown]
    return Observation(tuple(texts), previews[-1] if previews else None, bool(sink.of("handoff.requested")))


async def _play(system: System, principal: Principal, transcript: Transcript, move: Move) -> Observation:
    cid = transcript.conversation_id
    if isinstance(move, Decide):
        transcript.dialogue.append(
            ("customer", "[Confirms the change]" if move.approve else "[Declines the change]")
        )
        try:
            await asyncio.to_thread(system.gateway.decide, principal, move.preview_id, move.approve)
        except CopilotError as exc:  # e.g. the preview expired: the card shows why
            transcript.assistant_texts.append(exc.message)
            return Observation((exc.message,))
        resume = {"preview_id": move.preview_id, "approved": move.approve}
        return await _turn(system, transcript, TurnRequest(cid, new_turn_id(), principal, resume=resume))
    assert isinstance(move, Say)
    transcript.customer_turns += 1
    transcript.dialogue.append(("customer", move.text))
    return await _turn(system, transcript, TurnRequest(cid, new_turn_id(), principal, text=move.text))


async def run_conversation(
    system: System, principal: Principal, user: UserSimulator, *, max_turns: int
) -> Transcript:
    """Let `user` talk to the copilot until it stops, a human takes over, or `max_turns` customer moves."""
    transcript = Transcript(f"sim_{uuid.uuid4().hex[:16]}")
    seen = Observation()
    for _ in range(max_turns):
        move = await user.move(seen)
        if isinstance(move, Stop):
            break
        seen = await _play(system, principal, transcript, move)
        if seen.handed_off:
            transcript.ended_by = "handoff"
            break
    else:
        transcript.ended_by = "max_turns"
    state = await system.graph.aget_state({"configurable": {"thread_id": transcript.conversation_id}})
    transcript.usage = usage_of(state.values.get("messages", []))
    transcript.user_usage = user.usage
    return transcript
