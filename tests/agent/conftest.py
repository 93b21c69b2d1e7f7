"""Fixtures for graph tests: principal, gateway, retriever, a graph factory over a scripted model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from langchain_core.messages import AIMessage, ToolCall
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from copilot.agent.deps import AgentDeps
from copilot.agent.graph import SupportGraph, build_graph
from copilot.agent.runner import run_turn
from copilot.gateway.spec import ToolSpec
from copilot.principal import Principal
from tests.agent.fake_gateway import FakeGateway
from tests.agent.fakes import FixedRetriever, RecordingSink
from tests.agent.scripted import ScriptedChatModel

CUSTOMER = Principal(tenant="demo", role="customer", user_id="ethan_kim_8860")


def _spec(name: str, side_effect: Any) -> ToolSpec:
    params = {"type": "object", "properties": {"order_id": {"type": "string"}}, "additionalProperties": False}
    return ToolSpec(name, f"{name} tool", params, side_effect)


TOOLS = (
    _spec("get_order_details", "read"),
    _spec("cancel_pending_order", "write"),
    _spec("transfer_to_human_agents", "none"),
)


def call(name: str, call_id: str, **args: Any) -> AIMessage:
    return AIMessage(content="", tool_calls=[ToolCall(name=name, args=args, id=call_id)])


@dataclass
class Harness:
    graph: SupportGraph
    model: ScriptedChatModel
    gateway: FakeGateway
    sink: RecordingSink
    conversation_id: str = "conv-1"

    async def say(self, text: str, turn_id: str = "t1") -> RecordingSink:
        self.sink.clear()
        await run_turn(
            self.graph,
            conversation_id=self.conversation_id,
            turn_id=turn_id,
            principal=CUSTOMER,
            sink=self.sink,
            text=text,
        )
        return self.sink

    async def resume(self, preview_id: str, approved: bool, turn_id: str = "t2") -> RecordingSink:
        self.sink.clear()
        await run_turn(
            self.graph,
            conversation_id=self.conversation_id,
            turn_id=turn_id,
            principal=CUSTOMER,
            sink=self.sink,
            resume={"preview_id": preview_id, "approved": approved},
        )
        return self.sink


MakeHarness = Callable[..., Harness]


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway(
        orders={
            "#W1000001": {"user_id": CUSTOMER.user_id, "status": "pending"},
            "#W2000002": {"user_id": "someone_else_1", "status": "pending"},
        }
    )


@pytest.fixture
def harness(gateway: FakeGateway) -> MakeHarness:
    def make(*script: AIMessage, checkpointer: BaseCheckpointSaver[str] | None = None) -> Harness:
        model = ScriptedChatModel(script=list(script))
        deps = AgentDeps(model=model, gateway=gateway, retriever=FixedRetriever(), tools=TOOLS)
        graph = build_graph(deps, checkpointer or InMemorySaver())
        return Harness(graph, model, gateway, RecordingSink())

    return make
