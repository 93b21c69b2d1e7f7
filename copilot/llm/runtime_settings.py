"""The model runtime's part of AgentDeps, from Settings: fallback chain, call policy (timeouts, retries,
tool_choice), turn budget, context window, the audit report of model failures, the fixed system prompt (our
rules + the pack's tone and domain policy) and the per-principal tool filter (what its policy allows)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from langchain_core.messages.utils import count_tokens_approximately

from copilot.agent.deps import AgentDeps, ModelErrorReport, TurnBudget
from copilot.agent.summary import SummaryMode
from copilot.errors import CopilotError, ErrorCode
from copilot.gateway.audit import AuditEntry, AuditLog
from copilot.gateway.authorizer import Authorizer
from copilot.gateway.visible import permitted_tools
from copilot.llm.calls import CallPolicy
from copilot.llm.errors import ModelError
from copilot.llm.factory import make_fallbacks
from copilot.packs import Pack
from copilot.principal import Principal
from copilot.prompts.defaults import instructions
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


def domain_policy(settings: Settings, pack: Pack) -> str | None:
    """COPILOT_DOMAIN_POLICY_PATH, else the pack's policy for the store's data (e.g. τ²'s policy.md)."""
    path: Path | None = settings.domain_policy_path
    if path is None and pack.domain_policy is not None:
        path = pack.domain_policy(settings.data_path)
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CopilotError(
            ErrorCode.CONFIGURATION,
            f"Cannot read the domain policy {path}: {exc}; fix COPILOT_DOMAIN_POLICY_PATH.",
        ) from exc


def summary_mode(settings: Settings) -> SummaryMode:
    """COPILOT_HISTORY_SUMMARY; auto: the offline model gets the extractive summary, any other the model's."""
    if settings.history_summary != "auto":
        return settings.history_summary
    return "extractive" if settings.model.strip() == "offline" else "model"


def prompt_tokens(deps: AgentDeps, tenant: str) -> dict[str, int]:
    """Approximate tokens of the fixed prompt (rules, policy, tool schemas) each role sends on every call."""
    costs = {}
    for role in ("guest", "customer", "agent", "supervisor"):
        specs = deps.tools_for(Principal(tenant=tenant, role=role, user_id="-"))
        schemas = json.dumps([spec.openai_schema() for spec in specs]) if specs else ""
        costs[role] = count_tokens_approximately([deps.instructions]) + len(schemas) // 4
    return costs


def model_deps(
    settings: Settings, pack: Pack, audit: AuditLog, authorizer: Authorizer, *, custom: bool = False
) -> dict[str, Any]:
    """Keyword arguments for AgentDeps; a `custom` model (tests) gets no configured fallbacks."""
    return {
        "instructions": instructions(domain_policy(settings, pack), pack.tone),
        "tool_filter": permitted_tools(authorizer, [t.spec for t in pack.tools]),
        "fallbacks": [] if custom else make_fallbacks(settings, pack),
        "calls": call_policy(settings),
        "budget": TurnBudget(
            settings.turn_max_model_calls, settings.turn_max_tool_calls, settings.turn_max_tokens
        ),
        "context_tokens": settings.model_context_tokens,
        "summary": summary_mode(settings),
        "repeat_limit": settings.tool_repeat_limit,
        "report": audit_reporter(audit, settings.model),
    }
