"""LangGraph entry point: langgraph.json maps "support" → ./graphs/support.py:graph.

`graph` is an async graph factory, which LangGraph's server awaits for each run: the first call builds the
system from Settings (COPILOT_* environment) on a worker thread, never on the server's event loop, so
`langgraph dev` runs without --allow-blocking; later calls return the same compiled graph, run with the
server's own checkpointer. Nothing heavy happens at import time; the logic lives in copilot.platform.

The graph reads the caller from config["configurable"]["principal"] (our API) or from the user the server's
auth handler verified (graphs/auth.py: a copilot bearer token); a principal sent as plain JSON is refused
(UNAUTHENTICATED), so a client can never pick its own role.
"""

from __future__ import annotations

from langchain_core.runnables import RunnableConfig

from copilot.agent.graph import SupportGraph
from copilot.platform.system import server_system


async def graph(config: RunnableConfig | None = None) -> SupportGraph:
    """The compiled support graph (built on first use; the server supplies the checkpointer)."""
    return (await server_system()).graph
