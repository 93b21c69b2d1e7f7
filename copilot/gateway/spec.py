"""What a tool is: a spec (name, JSON Schema, side effect, owned arguments) plus a handler."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from copilot.principal import Principal
from copilot.store.documents import DocumentStore

SideEffect = Literal["none", "read", "write"]
Explainer = Callable[[Mapping[str, Any], Mapping[str, Any]], Sequence[str]]
"""(canonical arguments, the dry run's facts) → the preview as plain sentences (copilot/gateway/describe.py)."""
Canonicalizer = Callable[[str], str]
"""Turns an identifier into its canonical form (after NFKC + strip) or raises ValueError to reject it."""


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    parameters: Mapping[str, Any]
    """JSON Schema (draft 2020-12) of the arguments object; must set additionalProperties: false."""
    side_effect: SideEffect
    owned: Mapping[str, str] = field(default_factory=dict)
    """Argument name → resource kind (e.g. order_id → "order"). Each value (or each element of an
    array value) must be owned by the principal when the role's scope is `own`."""
    identifiers: Mapping[str, Canonicalizer] = field(default_factory=dict)
    """Argument name → canonicalizer, applied to the string (or to each string of an array)."""
    explain: Explainer | None = None
    """How a write's preview reads to people; without it the preview is rendered from the record changes."""

    def openai_schema(self) -> dict[str, Any]:
        """The function-calling shape used by LangChain's bind_tools."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": dict(self.parameters),
            },
        }


@dataclass(slots=True)
class ToolContext:
    """What a handler sees. In a dry-run the store's transaction is rolled back afterwards."""

    principal: Principal
    store: DocumentStore
    dry_run: bool
    amount: float | None = None
    """Money moved by this call (refund or charge total) — checked against the role's limit."""
    facts: dict[str, Any] = field(default_factory=dict)
    """Human-readable preview facts the handler wants to show (e.g. refund destination)."""


Handler = Callable[[ToolContext, dict[str, Any]], Any]
"""Runs the tool on validated, canonical arguments; returns JSON-able data or raises ToolError."""


@dataclass(frozen=True, slots=True)
class Tool:
    spec: ToolSpec
    handler: Handler
