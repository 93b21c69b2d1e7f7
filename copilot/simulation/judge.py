"""NL assertions (τ²'s NL_ASSERTION reward), graded by a judge model: it reads the conversation and says, per
assertion, whether the assistant met it. Any LangChain chat model plays the judge (in CI the scripted
OpenAI-compatible server). The verdict is reported beside the store-hash grade, never folded into it; a
judge that fails or answers out of format leaves the trial "not graded", with the reason."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, ValidationError

from copilot.simulation.metrics import Usage
from copilot.simulation.users import usage_of

INSTRUCTIONS = """You grade a customer-support conversation against expectations about the assistant.
For each numbered expectation, decide from the conversation alone whether the assistant met it.
Reply with JSON only, one result per expectation:
{"results": [{"expectation": 1, "met": true, "reasoning": "one sentence"}]}"""
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
Status = Literal["graded", "not_graded"]


@dataclass(frozen=True, slots=True)
class Verdict:
    assertion: str
    met: bool
    reasoning: str


@dataclass(frozen=True, slots=True)
class NLGrade:
    status: Status
    verdicts: tuple[Verdict, ...] = ()
    reason: str = ""
    """Why it was not graded."""
    usage: Usage = field(default_factory=Usage)
    """The judge model's tokens for this grade (counted apart from the copilot's and the user's)."""

    @property
    def met(self) -> bool:
        return self.status == "graded" and all(v.met for v in self.verdicts)


def not_graded(reason: str, usage: Usage | None = None) -> NLGrade:
    return NLGrade("not_graded", reason=reason, usage=usage or Usage())


class _Result(BaseModel):
    expectation: int
    met: bool
    reasoning: str = ""


class _Reply(BaseModel):
    results: list[_Result]


def transcript_text(dialogue: Sequence[tuple[str, str]]) -> str:
    return "\n".join(f"{who}: {text}" for who, text in dialogue)


def prompt(
    dialogue: Sequence[tuple[str, str]], assertions: Sequence[str]
) -> list[SystemMessage | HumanMessage]:
    expectations = "\n".join(f"{n}. {text}" for n, text in enumerate(assertions, start=1))
    body = f"<conversation>\n{transcript_text(dialogue)}\n</conversation>\n\nExpectations:\n{expectations}"
    return [SystemMessage(INSTRUCTIONS), HumanMessage(body)]


def parse(text: str, assertions: Sequence[str]) -> NLGrade:
    """The judge's reply → verdicts, or not graded with what was wrong (every expectation needs one)."""
    found = _OBJECT.search(text)
    try:
        reply = _Reply.model_validate(json.loads(found.group(0) if found else text))
    except (ValueError, ValidationError) as exc:
        return not_graded(f"the judge's reply is not the expected JSON ({str(exc).splitlines()[0]})")
    by_number = {r.expectation: r for r in reply.results}
    missing = [n for n in range(1, len(assertions) + 1) if n not in by_number]
    if missing:
        return not_graded(f"the judge gave no verdict for expectation(s) {', '.join(map(str, missing))}")
    verdicts = tuple(
        Verdict(text, by_number[n].met, by_number[n].reasoning) for n, text in enumerate(assertions, start=1)
    )
    return NLGrade("graded", verdicts)


@dataclass(frozen=True)
class Judge:
    model: BaseChatModel
    label: str

    async def grade(self, dialogue: Sequence[tuple[str, str]], assertions: Sequence[str]) -> NLGrade:
        try:
            reply = await self.model.ainvoke(prompt(dialogue, assertions))
        except Exception as exc:  # any provider's failure: this trial's assertions stay ungraded
            return not_graded(f"the judge model {self.label} failed: {type(exc).__name__}: {exc}")
        return replace(parse(reply.text, assertions), usage=usage_of([reply]))
