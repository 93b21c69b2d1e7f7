"""validate: the final answer as a pydantic FinalAnswer (citations ⊆ retrieved passages), grounded in this
turn's evidence (copilot/agent/grounding.py: numbers, claimed actions, supported sentences). One repair
attempt (the model is told what was wrong and re-plans), then handoff. Only an answer that passes is
emitted as message.completed; the runner streams an answer's text only then, so rejected text never
reaches the customer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator

from copilot.agent.emit import emit
from copilot.agent.grounding import Evidence, problems
from copilot.agent.state import SupportState
from copilot.gateway.spec import ToolSpec
from copilot.knowledge.citations import extract_citations
from copilot.prompts.templates import PromptSet, builtin, prompts_of

MAX_REPAIRS = 1


class ActionTaken(BaseModel):
    call_id: str
    tool: str
    outcome: str
    preview_id: str | None = None


class FinalAnswer(BaseModel):
    """What a turn answers. Validate with context={"retrieved": set of passage ids}."""

    text: str = Field(min_length=1)
    citations: list[str]
    actions_taken: list[ActionTaken]
    handoff: bool = False

    @field_validator("citations")
    @classmethod
    def _cited_were_retrieved(cls, value: list[str], info: ValidationInfo) -> list[str]:
        retrieved = (info.context or {}).get("retrieved", set())
        foreign = [c for c in value if c not in retrieved]
        if foreign:
            listed = ", ".join(f"[{c}]" for c in foreign)
            raise ValueError(f"cited {listed}, which is not among the retrieved passages")
        return value


def citations_in(text: str) -> list[str]:
    return extract_citations(text)


def _problems(error: ValidationError) -> list[str]:
    return [str(e["msg"]).removeprefix("Value error, ") for e in error.errors()]


def _this_turn(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """Messages after the customer's latest message (validator notes are ours, not the customer's)."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, HumanMessage) and message.name != "validator":
            return list(messages[index + 1 :])
    return list(messages)


def evidence_of(state: SupportState, specs: dict[str, ToolSpec]) -> Evidence:
    turn = _this_turn(state["messages"])
    results = [m.text for m in turn if isinstance(m, ToolMessage)]
    executed = {a["tool"] for a in state.get("actions", []) if a["outcome"] == "executed"}
    used = {a["tool"] for a in state.get("actions", [])}
    descriptions = [specs[t].description for t in used if t in specs]
    return Evidence(
        passages={p["id"]: p["text"] for p in state.get("passages", [])},
        results=[*results, *descriptions],
        executed=frozenset(executed),
        said=[m.text for m in state["messages"] if isinstance(m, HumanMessage) and m.name != "validator"],
        writes=frozenset(t for t in executed if t in specs and specs[t].side_effect == "write"),
    )


def make_validate(tools: Sequence[ToolSpec]) -> Any:
    specs = {spec.name: spec for spec in tools}
    fallback = builtin("")  # the repair note does not depend on the system prompt

    async def validate(state: SupportState, config: RunnableConfig) -> dict[str, Any]:
        return _validate(state, specs, prompts_of(config, fallback))

    return validate


def _validate(state: SupportState, specs: dict[str, ToolSpec], prompts: PromptSet) -> dict[str, Any]:
    last = state["messages"][-1]
    text = last.text.strip() if isinstance(last, AIMessage) else ""
    passages = state.get("passages", [])
    try:
        answer = FinalAnswer.model_validate(
            {"text": text, "citations": citations_in(text), "actions_taken": state.get("actions", [])},
            context={"retrieved": {p["id"] for p in passages}},
        )
        found = problems(answer.text, evidence_of(state, specs))
    except ValidationError as error:
        found = _problems(error)
    if found:
        if state.get("repairs", 0) < MAX_REPAIRS:
            note = HumanMessage(content=prompts.repair(found), name="validator")
            return {"repairs": state.get("repairs", 0) + 1, "messages": [note]}
        return {"handoff": {"reason": "validation_failed", "summary": "; ".join(found)}}
    titles = {p["id"]: p["title"] for p in passages}
    emit(
        "message.completed",
        {
            "text": answer.text,
            "citations": [{"id": c, "title": titles[c]} for c in answer.citations],
            "actions": [a.model_dump(exclude_none=True) for a in answer.actions_taken],
            "handoff": False,
        },
    )
    return {"final": True}
