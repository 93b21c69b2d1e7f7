"""build_graph: wire the support graph.

guard → retrieve → plan ⇄ act → confirm → execute → plan → validate → END
handoff ← guard (user asks) | act (transfer_to_human_agents) | validate (failed twice)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from langchain_core.messages import AIMessage
from langgraph._internal._runnable import RunnableCallable
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from copilot.agent.act import make_act
from copilot.agent.confirm import confirm, make_execute
from copilot.agent.deps import AgentDeps
from copilot.agent.guard import make_guard
from copilot.agent.handoff import handoff
from copilot.agent.plan import make_plan
from copilot.agent.retrieve import make_retrieve
from copilot.agent.state import SupportState
from copilot.agent.validate import make_validate
from copilot.telemetry.tracing import traced_node

SupportGraph = CompiledStateGraph[SupportState, None, SupportState, SupportState]


async def after_guard(state: SupportState) -> Literal["retrieve", "handoff", "__end__"]:
    if state.get("final"):
        return "__end__"
    return "handoff" if state.get("handoff") else "retrieve"


async def after_plan(state: SupportState) -> Literal["act", "validate"]:
    last = state["messages"][-1]
    calls = isinstance(last, AIMessage) and (last.tool_calls or last.invalid_tool_calls)
    return "act" if calls else "validate"


async def after_act(state: SupportState) -> Literal["handoff", "confirm", "plan"]:
    if state.get("handoff"):
        return "handoff"
    return "confirm" if state.get("pending") else "plan"


async def after_confirm(state: SupportState) -> Literal["execute", "confirm", "plan"]:
    decision = state.get("decision")
    if decision and decision["approved"]:
        return "execute"
    return "confirm" if state.get("pending") else "plan"


async def after_execute(state: SupportState) -> Literal["confirm", "plan"]:
    return "confirm" if state.get("pending") else "plan"


async def after_validate(state: SupportState) -> Literal["handoff", "plan", "__end__"]:
    if state.get("handoff"):
        return "handoff"
    return "__end__" if state.get("final") else "plan"


def _route(router: Callable[[SupportState], Awaitable[str]]) -> RunnableCallable:
    """A router as an untraced runnable. A plain function is coerced with tracing on, so each of the ~5
    routings per turn opened a callback run (start/end events to every handler, a child callback manager and
    an extra asyncio task): ~0.15 ms each. Routers are pure reads of state, nothing to trace. The branch
    targets are still read from the Literal return type, so the drawn graph is unchanged."""
    return RunnableCallable(None, router, name=router.__name__, trace=False)


def build_graph(deps: AgentDeps, checkpointer: BaseCheckpointSaver[str] | None = None) -> SupportGraph:
    """Compile the support graph. Without a checkpointer (LangGraph platform) the platform supplies one;
    interrupts (confirmations) need one."""
    builder = StateGraph(SupportState)
    writes = frozenset(spec.name for spec in deps.tools if spec.side_effect == "write")
    nodes = {
        "guard": make_guard(deps.max_input_chars), "retrieve": make_retrieve(deps.retriever, deps.k),
        "plan": make_plan(deps), "act": make_act(deps.gateway, deps.repeat_limit, deps.budget.tool_calls, writes),
        "confirm": confirm, "execute": make_execute(deps.gateway), "validate": make_validate(deps.tools), "handoff": handoff,
    }  # fmt: skip
    for name, node in nodes.items():
        builder.add_node(name, traced_node(name, node))  # a span per node when the turn is traced
    builder.add_edge(START, "guard")
    builder.add_conditional_edges("guard", _route(after_guard))
    builder.add_edge("retrieve", "plan")
    builder.add_conditional_edges("plan", _route(after_plan))
    builder.add_conditional_edges("act", _route(after_act))
    builder.add_conditional_edges("confirm", _route(after_confirm))
    builder.add_conditional_edges("execute", _route(after_execute))
    builder.add_conditional_edges("validate", _route(after_validate))
    builder.add_edge("handoff", END)
    return builder.compile(checkpointer=checkpointer, name="support")
