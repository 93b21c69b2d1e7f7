"""validate: the final answer as a pydantic FinalAnswer (citations ⊆ retrieved passages). One repair
attempt (the model is told what was wrong and re-plans), then handoff."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator

from copilot.agent.emit import emit
from copilot.agent.prompts import repair_note
from copilot.agent.state import SupportState
from copilot.knowledge.citations import extract_citations

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


async def validate(state: SupportState) -> dict[str, Any]:
    last = state["messages"][-1]
    text = last.text.strip() if isinstance(last, AIMessage) else ""
    passages = state.get("passages", [])
    try:
        answer = FinalAnswer.model_validate(
            {"text": text, "citations": citations_in(text), "actions_taken": state.get("actions", [])},
            context={"retrieved": {p["id"] for p in passages}},
        )
    except ValidationError as error:
        problems = _problems(error)
        if state.get("repairs", 0) < MAX_REPAIRS:
            note = HumanMessage(content=repair_note(problems), name="validator")
            return {"repairs": state.get("repairs", 0) + 1, "messages": [note]}
        return {"handoff": {"reason": "validation_failed", "summary": "; ".join(problems)}}
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
