"""The baseline: a bare LangGraph tool-calling agent (model node + ToolNode, tools bound once at build time).

`langgraph.prebuilt.create_react_agent` is deprecated in LangGraph 1.x in favour of `langchain.agents`
(not installed here), so this is its minimal equivalent StateGraph."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import SystemMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import StructuredTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from copilot.prompts.defaults import INSTRUCTIONS
from copilot.store.documents import Doc

BareGraph = CompiledStateGraph[MessagesState, None, MessagesState, MessagesState]


def order_tool(read_order: Callable[[str], Doc | None]) -> StructuredTool:
    """The same store read as the pack's get_order_details, as a plain LangChain tool (no gateway)."""

    def get_order_details(order_id: str) -> Doc | None:
        """Get the status and details of an order (items, fulfilments, payment history)."""
        return read_order(order_id)

    return StructuredTool.from_function(get_order_details)


def build_bare(
    model: BaseChatModel, tool: StructuredTool, checkpointer: BaseCheckpointSaver[str]
) -> BareGraph:
    bound = model.bind_tools([tool])

    async def agent(state: MessagesState, config: RunnableConfig) -> dict[str, Any]:
        reply = await bound.ainvoke([SystemMessage(content=INSTRUCTIONS), *state["messages"]], config)
        return {"messages": [reply]}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", agent)
    builder.add_node("tools", ToolNode([tool]))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition)
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=checkpointer, name="bare")
