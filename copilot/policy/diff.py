"""Decision diff between two rule sets over sample requests (default: every role × every pack tool, plus
policy management), and the readable role → tools / scope / limit table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from copilot.gateway.authorization import LIMIT_KEY
from copilot.gateway.authorizer import CALL
from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.policy.lint import MANAGE, POLICY_OBJECT
from copilot.principal import TENANT_ROLES


@dataclass(frozen=True, slots=True)
class Sample:
    role: str
    tenant: str
    obj: str
    action: str = CALL


def default_samples(tools: Sequence[str], tenant: str) -> list[Sample]:
    samples = [Sample(role, tenant, tool) for role in TENANT_ROLES for tool in sorted(tools)]
    return samples + [Sample(role, tenant, POLICY_OBJECT, MANAGE) for role in TENANT_ROLES]


def _verdict(authorizer: CasbinAuthorizer, s: Sample) -> tuple[str, list[str]]:
    allowed, rule = authorizer.explain(s.role, s.tenant, s.obj, s.action)
    return ("allow" if allowed else "deny"), rule


def decision_diff(
    before: CasbinAuthorizer, after: CasbinAuthorizer, samples: Sequence[Sample]
) -> dict[str, Any]:
    """Requests whose decision differs, with the deciding rule on each side; plus scope/limit changes."""
    changed: list[dict[str, Any]] = []
    for s in samples:
        (old, old_rule), (new, new_rule) = _verdict(before, s), _verdict(after, s)
        if old != new:
            changed.append({"role": s.role, "tenant": s.tenant, "object": s.obj, "action": s.action,
                            "before": old, "after": new, "rule_before": old_rule, "rule_after": new_rule})  # fmt: skip
    settings: list[dict[str, Any]] = []
    for role, tenant in sorted({(s.role, s.tenant) for s in samples}):
        for key, old_value, new_value in (
            ("scope", before.scope(role, tenant), after.scope(role, tenant)),
            (LIMIT_KEY, before.limit(role, tenant, LIMIT_KEY), after.limit(role, tenant, LIMIT_KEY)),
        ):
            if old_value != new_value:
                settings.append(
                    {"role": role, "tenant": tenant, "key": key, "before": old_value, "after": new_value}
                )
    return {"before": before.version, "after": after.version, "samples": len(samples),
            "changed": changed, "settings": settings}  # fmt: skip


def role_table(authorizer: CasbinAuthorizer, tools: Sequence[str], tenant: str) -> list[dict[str, Any]]:
    """One row per role: the tools it may call (and those explicitly denied), scope, limit, policy admin."""
    rows = []
    for role in TENANT_ROLES:
        verdicts = {tool: authorizer.explain(role, tenant, tool) for tool in sorted(tools)}
        rows.append({
            "role": role,
            "tools": [t for t, (ok, _) in verdicts.items() if ok],
            "denied": [t for t, (ok, rule) in verdicts.items() if not ok and rule and rule[-1] == "deny"],
            "scope": authorizer.scope(role, tenant),
            "max_refund": authorizer.limit(role, tenant, LIMIT_KEY),
            "manages_policy": authorizer.allows(role, tenant, POLICY_OBJECT, MANAGE),
        })  # fmt: skip
    return rows
