"""What the graph needs from the rest of the system, as small Protocols (the graph never imports concrete
gateway / knowledge / model classes, so it runs unchanged with fakes, the offline model or a real LLM)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from langchain_core.language_models import BaseChatModel

from copilot.agent.summary import SummaryMode
from copilot.gateway.result import GatewayResult
from copilot.gateway.spec import ToolSpec
from copilot.knowledge.audience import Audience
from copilot.llm.calls import CallPolicy
from copilot.llm.errors import ModelError
from copilot.principal import Principal
from copilot.prompts.defaults import INSTRUCTIONS


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved knowledge chunk the model may cite as [id]."""

    id: str
    title: str
    text: str


class Retriever(Protocol):
    def search(self, query: str, k: int, audiences: Collection[Audience]) -> Sequence[Passage]:
        """Top-k passages for `query` from documents for `audiences` only (see copilot/knowledge/audience)."""
        ...


class GatewayPort(Protocol):
    """The part of copilot.gateway.Gateway the graph uses (sync: SQLAlchemy underneath). Deliberately no
    `decide`: only the API records a human's approval; the graph can merely ask to execute."""

    def call(
        self,
        principal: Principal,
        tool: str,
        arguments: object,
        *,
        conversation_id: str | None = None,
    ) -> GatewayResult: ...

    def execute(self, principal: Principal, preview_id: str) -> GatewayResult: ...


ToolFilter = Callable[[Principal], Sequence[ToolSpec]]
ModelErrorReport = Callable[[Principal, str | None, ModelError], None]
"""Record a model failure (the audit log): (principal, conversation_id, error); sync, run off the loop."""


@dataclass(frozen=True, slots=True)
class TurnBudget:
    """What one turn may spend before it stops with turn_budget_exceeded (and offers a human)."""

    model_calls: int = 10
    tool_calls: int = 12
    tokens: int = 100_000


@dataclass(frozen=True)
class AgentDeps:
    """Everything build_graph needs. `tools` are the specs bound to the model; the gateway still decides."""

    model: BaseChatModel
    gateway: GatewayPort
    retriever: Retriever
    tools: Sequence[ToolSpec]
    k: int = 5
    max_input_chars: int = 4000
    tool_filter: ToolFilter | None = field(default=None)
    """Optional per-principal narrowing of the bound tools (default: all)."""
    context_tokens: int | None = None
    """The model's context window; the history sent to it is trimmed to fit (None: never trimmed)."""
    reserve_tokens: int = 1024
    """Kept free of the window for the answer."""
    summary: SummaryMode = "off"
    """What happens to history that no longer fits: "off" drops it (a note says so), "extractive" or "model"
    summarise it (copilot/agent/summary.py)."""
    repeat_limit: int = 2
    """The same failing tool call (same arguments) this many times in one turn hands the conversation off."""
    fallbacks: Sequence[BaseChatModel] = ()
    """Tried in order when `model` fails after its retries."""
    calls: CallPolicy = field(default_factory=CallPolicy)
    budget: TurnBudget = field(default_factory=TurnBudget)
    report: ModelErrorReport | None = None
    instructions: str = INSTRUCTIONS
    """The fixed part of the system prompt (prompts.instructions: our rules, the pack's tone and policy)."""

    def tools_for(self, principal: Principal) -> Sequence[ToolSpec]:
        return self.tool_filter(principal) if self.tool_filter else self.tools
