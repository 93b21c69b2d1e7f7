"""Grounding cost: the validate node's checks (copilot/agent/grounding.py: evidence from the turn's state,
numbers, claims, coverage) on the bench turn's final state, timed alone, as a share of the whole turn
(measured in the same run by bench/turn.py, in-memory saver, the scripted bench model)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver

from bench.model import BenchChatModel
from bench.stats import Stats, summarize, time_sync
from bench.system import CUSTOMER, OWN_ORDER, DemoSystem
from bench.turn import CountingSink, make_ours
from copilot.agent.grounding import problems
from copilot.agent.runner import run_turn
from copilot.agent.validate import evidence_of

GOAL = 0.10
"""The checks may cost at most this share of a turn (issue 9)."""


@dataclass(frozen=True, slots=True)
class GroundingResult:
    check: Stats

    def share(self, turn_ms: float) -> float:
        return self.check.mean_ms / turn_ms


async def run_grounding_bench(system: DemoSystem, iterations: int, warmup: int) -> GroundingResult:
    graph = make_ours(system, BenchChatModel(args={"order_id": OWN_ORDER}), InMemorySaver())
    thread = f"grounding-{uuid.uuid4().hex[:8]}"
    await run_turn(graph, conversation_id=thread, turn_id="t1", principal=CUSTOMER, sink=CountingSink(),
                   text=f"Where is my order {OWN_ORDER}?")  # fmt: skip
    state: Any = (await graph.aget_state({"configurable": {"thread_id": thread}})).values
    specs = {t.spec.name: t.spec for t in system.pack.tools}
    answer = next(m for m in reversed(state["messages"]) if isinstance(m, AIMessage)).text
    if problems(answer, evidence_of(state, specs)):
        raise RuntimeError("the bench answer is not grounded: the timing would measure a rejection")
    samples = time_sync(lambda _: problems(answer, evidence_of(state, specs)), iterations, warmup)
    return GroundingResult(summarize("grounding checks", samples))
