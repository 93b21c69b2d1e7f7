"""Turn benchmark: one copilot turn (guard → retrieve → plan → act/gateway → plan → validate, checkpointed)
vs the bare agent, same scripted model, same store read, same saver, same checkpoint durability (the bare
agent with the other durability — exit: a checkpoint per turn, async: one per step — is measured too, for
information). Runs are
interleaved (rotating order) so drift and cache effects hit every variant alike; each turn starts a fresh
thread."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Durability

from bench.bare import BareGraph, build_bare, order_tool
from bench.model import BenchChatModel
from bench.stats import Stats, summarize, time_async
from bench.system import CUSTOMER, OWN_ORDER, DemoSystem
from copilot.agent.checkpoint import open_checkpointer
from copilot.agent.deps import AgentDeps
from copilot.agent.graph import SupportGraph, build_graph
from copilot.agent.runner import DURABILITY, run_turn
from copilot.events import EventType
from copilot.telemetry.retrieval import ObservedRetriever
from copilot.turns import TurnStatus

SaverKind = Literal["in-memory", "sqlite"]
OTHER_DURABILITY: Durability = "exit" if DURABILITY != "exit" else "async"
QUESTION = f"Where is my order {OWN_ORDER}? It has not arrived yet."
EXPECTED: frozenset[EventType] = frozenset({"tool.executed", "message.completed"})


class BenchError(RuntimeError):
    """A benchmarked turn did not do what it should (the timing would measure a failure path)."""


@dataclass(frozen=True, slots=True)
class TurnResult:
    saver: SaverKind
    ours: Stats
    bare: Stats
    """The bare agent with the same checkpoint durability as ours (what the goal compares against)."""
    bare_other: Stats
    """The bare agent with the other durability (exit: one checkpoint per turn; async: one per step), for
    information."""
    durability: str
    """Ours and `bare`."""
    other_durability: str

    @property
    def ratio(self) -> float:
        return self.ours.mean_ms / self.bare.mean_ms

    @property
    def ratio_p50(self) -> float:
        return self.ours.p50_ms / self.bare.p50_ms


class CountingSink:
    """The turn's event sink, in memory (the API's event log is not part of the turn benchmark)."""

    def __init__(self) -> None:
        self.types: list[EventType] = []

    async def emit(self, type: EventType, data: dict[str, Any], *, turn_id: str | None = None) -> int:
        self.types.append(type)
        return len(self.types)


@asynccontextmanager
async def open_saver(kind: SaverKind, system: DemoSystem) -> AsyncIterator[BaseCheckpointSaver[str]]:
    """In-memory, or the production SQLite saver on the store's database file."""
    if kind == "in-memory":
        yield InMemorySaver()
        return
    async with open_checkpointer(system.settings) as saver:
        yield saver


def make_ours(
    system: DemoSystem, model: BenchChatModel, saver: BaseCheckpointSaver[str], *, observed: bool = False
) -> SupportGraph:
    """Our graph; `observed`: with the retrieval span and histogram, as copilot.wiring builds it."""
    tools = [t.spec for t in system.pack.tools]
    retriever = ObservedRetriever(system.retriever) if observed else system.retriever
    deps = AgentDeps(model=model, gateway=system.gateway, retriever=retriever, tools=tools)
    return build_graph(deps, saver)


class Variant(Protocol):
    async def run(self, i: int) -> None:
        """One turn on a fresh thread (timed)."""

    async def check(self, i: int) -> None:
        """Raise BenchError unless turn `i` did its job (not timed)."""


@dataclass
class Ours:
    graph: SupportGraph
    sink: CountingSink = field(default_factory=CountingSink)
    status: TurnStatus = "completed"

    async def run(self, i: int) -> None:
        self.sink = CountingSink()
        self.status = await run_turn(
            self.graph, conversation_id=f"ours-{i}", turn_id=f"t{i}", principal=CUSTOMER, sink=self.sink,
            text=QUESTION,
        )  # fmt: skip

    async def check(self, i: int) -> None:
        types = self.sink.types
        if not set(types) >= EXPECTED or "error" in types or self.status != "completed":
            raise BenchError(f"our turn emitted {types} ({self.status}); expected {sorted(EXPECTED)}")


@dataclass
class Bare:
    graph: BareGraph
    durability: Durability
    tag: str

    def config(self, i: int) -> Any:
        return {"configurable": {"thread_id": f"{self.tag}-{i}"}}

    async def run(self, i: int) -> None:
        payload: Any = {"messages": [HumanMessage(QUESTION)]}
        modes: Any = ["messages", "updates"]
        async for _ in self.graph.astream(
            payload, self.config(i), stream_mode=modes, durability=self.durability
        ):
            pass

    async def check(self, i: int) -> None:
        messages = (await self.graph.aget_state(self.config(i))).values["messages"]
        read = any(isinstance(m, ToolMessage) and OWN_ORDER in m.text for m in messages)
        if not read or not isinstance(messages[-1], AIMessage) or messages[-1].tool_calls:
            raise BenchError(f"the bare turn did not read the order and answer: {messages}")


async def measure(variants: dict[str, Variant], iterations: int, warmup: int) -> dict[str, list[float]]:
    """Interleaved, rotating which variant goes first; every turn is checked outside the timing."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    gc.collect()
    for i in range(warmup + iterations):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            elapsed = await time_async(variants[name].run, i)
            await variants[name].check(i)
            if i >= warmup:
                samples[name].append(elapsed)
    return samples


async def run_turn_bench(system: DemoSystem, kind: SaverKind, iterations: int, warmup: int) -> TurnResult:
    model = BenchChatModel(args={"order_id": OWN_ORDER})
    async with open_saver(kind, system) as saver:
        bare = build_bare(model, order_tool(system.read_order), saver)
        variants: dict[str, Variant] = {
            "ours": Ours(make_ours(system, model, saver)),
            "bare": Bare(bare, DURABILITY, "bare"),
            "bare_other": Bare(bare, OTHER_DURABILITY, "bare-other"),
        }
        samples = await measure(variants, iterations, warmup)
    return TurnResult(
        saver=kind,
        ours=summarize("ours", samples["ours"]),
        bare=summarize(f"bare, durability={DURABILITY}", samples["bare"]),
        bare_other=summarize(f"bare, durability={OTHER_DURABILITY}", samples["bare_other"]),
        durability=DURABILITY,
        other_durability=OTHER_DURABILITY,
    )
