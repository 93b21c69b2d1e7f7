"""Cost of the checks issue 9 added to a turn, on the bench turn's final state, each timed alone and reported
as a share of the whole turn (measured in the same run by bench/turn.py, in-memory saver, the scripted bench
model):
- grounding: the validate node's checks (copilot/agent/grounding.py: evidence from the turn's state, numbers,
  claims, coverage), once per answer;
- hygiene: what the turn's nodes run for tool-call hygiene — guard's close_dangling over the history, plan's
  fit to a 32k context window before each model call, act's signature and write-once check per tool call.

    .venv/bin/python -m bench.grounding [--iterations N]   (just this module: the turn, then the checks)
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from bench.model import BenchChatModel
from bench.stats import Stats, summarize, time_sync
from bench.system import CUSTOMER, OWN_ORDER, DemoSystem, open_demo
from bench.turn import CountingSink, make_ours, run_turn_bench
from copilot.agent.grounding import problems
from copilot.agent.guard import close_dangling
from copilot.agent.hygiene import fit, signature
from copilot.agent.once import refusal
from copilot.agent.runner import run_turn
from copilot.agent.state import ActionRecord
from copilot.agent.validate import evidence_of

GOAL = 0.10
"""The checks may cost at most this share of a turn (issue 9)."""
WINDOW = 32_000 - 1_024 - 4_000
"""The default context window (COPILOT_MODEL_CONTEXT_TOKENS) minus the reserve and a customer's fixed prompt."""


@dataclass(frozen=True, slots=True)
class GroundingResult:
    check: Stats
    """Grounding, per answer."""
    hygiene: Stats
    """Tool-call hygiene, per turn."""

    def share(self, turn_ms: float) -> float:
        return self.check.mean_ms / turn_ms

    def total_share(self, turn_ms: float) -> float:
        return (self.check.mean_ms + self.hygiene.mean_ms) / turn_ms

    def goal_met(self, turn_ms: float) -> bool:
        """The added checks (grounding + hygiene) cost at most `GOAL` of the turn."""
        return self.total_share(turn_ms) <= GOAL


def hygiene_of_turn(messages: list[AnyMessage], actions: list[ActionRecord], writes: frozenset[str]) -> int:
    """The hygiene work of one turn over its final history: guard once, fit before each model call, and the
    per-call checks of act. Returns how many messages the fits kept (so nothing is optimised away)."""
    start = max(i for i, m in enumerate(messages) if isinstance(m, HumanMessage))
    close_dangling(messages[:start], "moved on")
    kept = 0
    for index in range(start, len(messages)):
        message = messages[index]
        if not isinstance(message, AIMessage):
            continue
        kept += len(fit(messages[:index], WINDOW))
        for call in message.tool_calls:
            signature(call["name"], call["args"])
            refusal(call, actions, writes, repairing=False)
    return kept


async def run_grounding_bench(system: DemoSystem, iterations: int, warmup: int) -> GroundingResult:
    graph = make_ours(system, BenchChatModel(args={"order_id": OWN_ORDER}), InMemorySaver())
    thread = f"grounding-{uuid.uuid4().hex[:8]}"
    await run_turn(graph, conversation_id=thread, turn_id="t1", principal=CUSTOMER, sink=CountingSink(),
                   text=f"Where is my order {OWN_ORDER}?")  # fmt: skip
    state: Any = (await graph.aget_state({"configurable": {"thread_id": thread}})).values
    specs = {t.spec.name: t.spec for t in system.pack.tools}
    writes = frozenset(name for name, spec in specs.items() if spec.side_effect == "write")
    answer = next(m for m in reversed(state["messages"]) if isinstance(m, AIMessage)).text
    if problems(answer, evidence_of(state, specs)):
        raise RuntimeError("the bench answer is not grounded: the timing would measure a rejection")
    messages, actions = list(state["messages"]), list(state.get("actions", []))
    if not hygiene_of_turn(messages, actions, writes):
        raise RuntimeError("the bench turn made no model call: there is no hygiene to time")
    checks = time_sync(lambda _: problems(answer, evidence_of(state, specs)), iterations, warmup)
    hygiene = time_sync(lambda _: hygiene_of_turn(messages, actions, writes), iterations, warmup)
    return GroundingResult(summarize("grounding checks", checks), summarize("hygiene checks", hygiene))


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def line(result: GroundingResult, turn_ms: float, saver: str = "in-memory") -> str:
    share = result.total_share(turn_ms)
    return (
        f"grounding checks: {result.check.mean_ms:.3f} ms per answer (p95 {result.check.p95_ms:.3f}) + "
        f"hygiene {result.hygiene.mean_ms:.3f} ms per turn (p95 {result.hygiene.p95_ms:.3f}) = {share:.1%} "
        f"of a turn ({saver}, {turn_ms:.1f} ms; goal ≤ {GOAL:.0%}: {verdict(result.goal_met(turn_ms))})"
    )


async def _alone(iterations: int) -> str:
    with tempfile.TemporaryDirectory(prefix="copilot-bench-") as tmp:
        system = await asyncio.to_thread(open_demo, Path(tmp))
        try:
            turn = await run_turn_bench(system, "in-memory", iterations, warmup=20)
            result = await run_grounding_bench(system, iterations, warmup=20)
        finally:
            system.engine.dispose()
    return line(result, turn.ours.mean_ms)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.grounding", description=__doc__)
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args(argv)
    print(asyncio.run(_alone(args.iterations)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
