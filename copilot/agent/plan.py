"""plan: the model with the principal's tools bound, fed [system prompt + <context>, *conversation].
Tokens stream to the runner through LangGraph's "messages" stream mode."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableConfig

from copilot.agent.deps import AgentDeps
from copilot.agent.prompts import system_prompt
from copilot.agent.state import SupportState, principal_of
from copilot.principal import Principal


def make_plan(deps: AgentDeps) -> Any:
    bound: dict[tuple[str, ...], Runnable[LanguageModelInput, BaseMessage]] = {}

    def model_for(principal: Principal) -> Runnable[LanguageModelInput, BaseMessage]:
        """The model with the principal's tools bound, built once per distinct tool set (converting and
        binding ~16 schemas on every plan call cost ~0.1 ms; specs are immutable for the graph's life)."""
        specs = deps.tools_for(principal)
        key = tuple(spec.name for spec in specs)
        model = bound.get(key)
        if model is None:
            schemas = [spec.openai_schema() for spec in specs]
            model = bound[key] = deps.model.bind_tools(schemas) if schemas else deps.model
        return model

    async def plan(state: SupportState, config: RunnableConfig) -> dict[str, Any]:
        principal = principal_of(config)
        model = model_for(principal)
        prompt = SystemMessage(content=system_prompt(principal, state.get("passages", []), state.get("note")))
        reply = await model.ainvoke([prompt, *state["messages"]], config)
        if not isinstance(reply, AIMessage):
            reply = AIMessage(content=reply.content)
        return {"messages": [reply]}

    return plan
