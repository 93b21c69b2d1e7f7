"""Answer evaluation: each question runs as a fresh conversation through the real graph (guard → retrieve →
plan ⇄ act → validate) on the configured model; the answer passes when every expected fact (a regex) is in its
text and its sources are right — only expected documents cited (at least one of them), or none at all when
the question expects "none". Citation precision counts cited sources over all questions."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from copilot import jsonl
from copilot.errors import CopilotError, ErrorCode
from copilot.events import EventType
from copilot.principal import Principal
from copilot.turns.request import TurnRequest, new_turn_id
from copilot.wiring import System


class Question(BaseModel):
    """One line of QUESTIONS.jsonl."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000)
    user: str | None = Field(default=None, description="Customer to ask as (default: a guest).")
    facts: list[str] = Field(default_factory=list, description="Regexes the answer must contain (any case).")
    sources: list[str] | Literal["none"] = Field(
        description='Document or chunk ids the answer may cite (at least one must be), or "none".'
    )

    @field_validator("facts")
    @classmethod
    def _patterns_compile(cls, value: list[str]) -> list[str]:
        for pattern in value:
            re.compile(pattern)
        return value


@dataclass(frozen=True, slots=True)
class Graded:
    question: Question
    answer: str
    cited: tuple[str, ...]
    facts_ok: bool
    sources_ok: bool
    good_citations: int

    @property
    def correct(self) -> bool:
        return self.facts_ok and self.sources_ok


@dataclass(frozen=True, slots=True)
class AnswerReport:
    graded: tuple[Graded, ...]

    @property
    def accuracy(self) -> float:
        return sum(g.correct for g in self.graded) / len(self.graded) if self.graded else 0.0

    @property
    def citation_precision(self) -> float:
        cited = sum(len(g.cited) for g in self.graded)
        return sum(g.good_citations for g in self.graded) / cited if cited else 1.0

    def summary(self) -> str:
        return (
            f"answers {self.accuracy:.3f} correct on {len(self.graded)} questions, "
            f"citation precision {self.citation_precision:.3f}"
        )


def load_questions(path: Path) -> list[Question]:
    """Parse QUESTIONS.jsonl; a bad line is a BAD_REQUEST naming the line and what to fix."""
    questions: list[Question] = []
    for number, line in jsonl.lines(path):
        try:
            questions.append(Question.model_validate(json.loads(line)))
        except (ValueError, ValidationError, re.error) as exc:
            raise CopilotError(
                ErrorCode.BAD_REQUEST,
                f"{path.name} line {number}: {exc}. Each line is "
                '{"text", "user"?, "facts": [regex], "sources": [doc or chunk ids] or "none"}.',
            ) from exc
    if not questions:
        raise CopilotError(ErrorCode.BAD_REQUEST, f"{path.name} has no questions.")
    return questions


def _matches(cited: str, expected: Sequence[str]) -> bool:
    """A cited chunk id matches an expected chunk id, or the document it belongs to."""
    return any(cited == e or cited.split("#", 1)[0] == e for e in expected)


def grade(question: Question, answer: str, cited: Sequence[str]) -> Graded:
    facts_ok = all(re.search(p, answer, re.IGNORECASE) for p in question.facts)
    if question.sources == "none":
        good, sources_ok = 0, not cited
    else:
        good = sum(_matches(c, question.sources) for c in cited)
        sources_ok = bool(cited) and good == len(cited)
    return Graded(question, answer, tuple(cited), facts_ok, sources_ok, good)


class _Sink:
    def __init__(self) -> None:
        self.events: list[tuple[EventType, dict[str, Any]]] = []

    async def emit(self, type: EventType, data: dict[str, Any], *, turn_id: str | None = None) -> int:
        self.events.append((type, data))
        return len(self.events)


async def ask(system: System, question: Question, tenant: str) -> tuple[str, list[str]]:
    """The customer-visible answer of one fresh conversation and the ids it cites."""
    principal = (
        Principal(tenant, "customer", question.user)
        if question.user
        else Principal(tenant, "guest", f"guest_eval_{secrets.token_hex(4)}")
    )
    sink = _Sink()
    cid = f"eval_{secrets.token_hex(8)}"
    await system.runner(TurnRequest(cid, new_turn_id(), principal, text=question.text), sink)
    texts, cited = [], []
    for kind, data in sink.events:
        if kind == "message.completed":
            texts.append(str(data.get("text", "")))
            cited += [str(c["id"] if isinstance(c, dict) else c) for c in data.get("citations", [])]
        elif kind in ("tool.preview", "error"):
            texts.append(str(data.get("summary") or data.get("message") or ""))
        elif kind == "handoff.requested":
            texts.append("[handed off to a human]")
    return " ".join(t for t in texts if t), list(dict.fromkeys(cited))


async def evaluate_answers(
    system: System, questions: Sequence[Question], progress: Callable[[Graded], None] | None = None
) -> AnswerReport:
    graded = []
    for question in questions:
        answer, cited = await ask(system, question, system.settings.default_tenant)
        result = grade(question, answer, cited)
        graded.append(result)
        if progress is not None:
            progress(result)
    return AnswerReport(tuple(graded))
