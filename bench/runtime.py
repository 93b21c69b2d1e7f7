"""Cost of the model runtime and tool-call hygiene on one turn: the same turn (the turn benchmark's order
question, scripted model, in-memory saver) with the runtime's checks off vs on — total timeout and retry
policy around every model call, history fitted to a 32k context window, and the tools filtered by the
principal's policy (budget, repeat and invalid-call checks run in both). Interleaved; reported as a ratio.

    .venv/bin/python -m bench.runtime [--iterations N]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from langgraph.checkpoint.memory import InMemorySaver

from bench.model import BenchChatModel
from bench.stats import summarize
from bench.system import OWN_ORDER, open_demo
from bench.turn import Ours, Variant, measure
from copilot.agent.deps import AgentDeps
from copilot.agent.graph import build_graph
from copilot.gateway.visible import permitted_tools
from copilot.llm.calls import CallPolicy


async def run(iterations: int, warmup: int) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        system = open_demo(Path(tmp))
        model = BenchChatModel(args={"order_id": OWN_ORDER})
        tools = [t.spec for t in system.pack.tools]
        plain = AgentDeps(model=model, gateway=system.gateway, retriever=system.retriever, tools=tools)
        checked = AgentDeps(
            model=model, gateway=system.gateway, retriever=system.retriever, tools=tools,
            tool_filter=permitted_tools(system.authorizer, tools), context_tokens=32_000,
            calls=CallPolicy(timeout=60, retries=2),
        )  # fmt: skip
        variants: dict[str, Variant] = {
            "off": Ours(build_graph(plain, InMemorySaver())),
            "on": Ours(build_graph(checked, InMemorySaver())),
        }
        samples = await measure(variants, iterations, warmup)
        system.engine.dispose()
    off, on = summarize("off", samples["off"]), summarize("on", samples["on"])
    return off.mean_ms, on.mean_ms, on.mean_ms / off.mean_ms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.runtime", description=__doc__)
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args(argv)
    off, on, ratio = asyncio.run(run(args.iterations, warmup=20))
    print(f"turn without runtime checks {off:.2f} ms, with {on:.2f} ms: ratio {ratio:.3f} (goal ≤ 1.10)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
