"""plan: the model with the principal's tools bound, fed [system prompt + <context>, *conversation].
Tokens stream to the runner through LangGraph's "messages" stream mode."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, SystemMessage
from langchain_core.runnables import RunnableConfig

from copilot.agent.deps import AgentDeps
from copilot.agent.prompts import system_prompt
from copilot.agent.state import SupportState, principal_of


def make_plan(deps: AgentDeps) -> Any:
    async def plan(state: SupportState, config: RunnableConfig) -> dict[str, Any]:
        principal = principal_of(config)
        schemas = [spec.openai_schema() for spec in deps.tools_for(principal)]
        model = deps.model.bind_tools(schemas) if schemas else deps.model
        prompt = SystemMessage(content=system_prompt(principal, state.get("passages", []), state.get("note")))
        reply = await model.ainvoke([prompt, *state["messages"]], config)
        if not isinstance(reply, AIMessage):
            reply = AIMessage(content=reply.content)
        return {"messages": [reply]}

    return plan
