"""The LangGraph support graph: guard → retrieve → plan ⇄ act → confirm → execute → validate, plus handoff."""

from copilot.agent.deps import AgentDeps, GatewayPort, Passage, Retriever
from copilot.agent.graph import build_graph
from copilot.agent.runner import run_turn

__all__ = ["AgentDeps", "GatewayPort", "Passage", "Retriever", "build_graph", "run_turn"]
