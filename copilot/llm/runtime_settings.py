"""The model runtime's part of AgentDeps, from Settings: fallback chain, call policy (timeouts, retries,
tool_choice), turn budget, context window, and the audit report of model failures."""

from __future__ import annotations

import uuid
from typing import Any

from copilot.agent.deps import ModelErrorReport, TurnBudget
from copilot.gateway.audit import AuditEntry, AuditLog
from copilot.llm.calls import CallPolicy
from copilot.llm.errors import ModelError
from copilot.llm.factory import make_fallbacks
from copilot.packs import Pack
from copilot.principal import Principal
from copilot.settings import Settings

MODEL_TOOL = "(model)"
"""The audit rows of model failures use this in the tool column."""


def call_policy(settings: Settings) -> CallPolicy:
    return CallPolicy(
        timeout=settings.model_timeout, retries=settings.model_retries, backoff=settings.model_backoff_seconds,
        max_retry_after=settings.model_max_retry_after, tool_choice=settings.model_tool_choice,
    )  # fmt: skip


def audit_reporter(audit: AuditLog, model: str) -> ModelErrorReport:
    def report(principal: Principal, conversation_id: str | None, error: ModelError) -> None:
        audit.record(
            AuditEntry(
                decision_id=f"model_{uuid.uuid4().hex[:16]}", principal=principal, tool=MODEL_TOOL,
                arguments={"model": model}, outcome="error", policy_version="-", latency_ms=0.0,
                code=error.code.value, reason=error.detail, conversation_id=conversation_id,
            )
        )  # fmt: skip

    return report


def model_deps(settings: Settings, pack: Pack, audit: AuditLog, *, custom: bool = False) -> dict[str, Any]:
    """Keyword arguments for AgentDeps; a `custom` model (tests) gets no configured fallbacks."""
    return {
        "fallbacks": [] if custom else make_fallbacks(settings, pack),
        "calls": call_policy(settings),
        "budget": TurnBudget(
            settings.turn_max_model_calls, settings.turn_max_tool_calls, settings.turn_max_tokens
        ),
        "context_tokens": settings.model_context_tokens,
        "repeat_limit": settings.tool_repeat_limit,
        "report": audit_reporter(audit, settings.model),
    }
