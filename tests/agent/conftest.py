"""Fixtures for graph tests: the real world (store, pack, policy, gateway) and a graph over a scripted
model, driven through run_turn with a recording sink."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, ToolCall
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from copilot.agent.deps import AgentDeps, TurnBudget
from copilot.agent.graph import SupportGraph, build_graph
from copilot.agent.runner import run_turn
from copilot.llm.scripted import ScriptedChatModel
from tests.agent.fakes import FixedRetriever, RecordingSink
from tests.agent.world import CUSTOMER, World


def call(name: str, call_id: str, **args: Any) -> AIMessage:
    return AIMessage(content="", tool_calls=[ToolCall(name=name, args=args, id=call_id)])


@dataclass
class Harness:
    graph: SupportGraph
    model: ScriptedChatModel
    world: World
    sink: RecordingSink
    conversation_id: str = "conv-1"

    async def say(self, text: str, turn_id: str = "t1") -> RecordingSink:
        return await self._run(turn_id, text=text)

    async def resume(self, preview_id: str, approved: bool, turn_id: str = "t2") -> RecordingSink:
        return await self._run(turn_id, resume={"preview_id": preview_id, "approved": approved})

    async def _run(self, turn_id: str, **kw: Any) -> RecordingSink:
        self.sink.clear()
        status = await run_turn(
            self.graph,
            conversation_id=self.conversation_id,
            turn_id=turn_id,
            principal=CUSTOMER,
            sink=self.sink,
            **kw,
        )
        await self.sink.emit("turn.completed", {"status": status}, turn_id=turn_id)  # as the scheduler does
        return self.sink


MakeHarness = Callable[..., Harness]


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store, seeded once per session; each test copies the file."""
    seeded = World.create(tmp_path_factory.mktemp("template"))
    seeded.engine.dispose()  # checkpoints the WAL into the main file
    path = seeded.settings.sqlite_path
    assert path is not None
    return path


@pytest.fixture
def world(tmp_path: Path, seeded_db: Path) -> Iterator[World]:
    world = World.create(tmp_path, template=seeded_db)
    yield world
    world.engine.dispose()


@pytest.fixture
def harness(world: World) -> Iterator[MakeHarness]:
    """Builds graphs over scripted models; every scripted step must have run by the end of the test."""
    models: list[ScriptedChatModel] = []

    def make(
        *script: AIMessage,
        checkpointer: BaseCheckpointSaver[str] | None = None,
        budget: TurnBudget | None = None,
    ) -> Harness:
        model = ScriptedChatModel(script=list(script))
        models.append(model)
        tools = [t.spec for t in world.pack.tools]
        deps = AgentDeps(
            model=model, gateway=world.gateway, retriever=FixedRetriever(), tools=tools,
            budget=budget or TurnBudget(),
        )  # fmt: skip
        graph = build_graph(deps, checkpointer or InMemorySaver())
        return Harness(graph, model, world, RecordingSink())

    yield make
    for model in models:
        model.assert_consumed()
