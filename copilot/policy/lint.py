"""Validation of a proposed rule set before it may be saved: errors refuse it, warnings (grants broader than the
parent version) must be acknowledged by id. Nothing is applied here; the store activates only a clean result."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from copilot.gateway.casbin_authorizer import CasbinAuthorizer, pattern_matches
from copilot.policy.rules import PTYPES, Finding, Rule, normalize
from copilot.principal import TENANT_ROLES

POLICY_OBJECT, MANAGE = "policy", "manage"
SCOPES = ("none", "own", "tenant")
NUMERIC_KEYS = frozenset({"max_refund"})
_TENANT = re.compile(r"^(\*|[A-Za-z0-9_.-]+\*?)$")


def _err(id_: str, message: str, rule: Rule | None = None) -> Finding:
    return Finding(id_, "error", message, list(rule) if rule else None)


def _warn(id_: str, message: str, rule: Rule) -> Finding:
    return Finding(id_, "warning", message, list(rule))


def _role(name: str, rule: Rule) -> list[Finding]:
    if name in TENANT_ROLES:
        return []
    return [_err(f"unknown_role:{name}", f"Unknown role {name!r}; use one of {list(TENANT_ROLES)}.", rule)]


def _tenant(dom: str, rule: Rule, tenant: str) -> list[Finding]:
    """`*` (this tenant) or the tenant's own id: a tenant's policy cannot speak for another tenant."""
    if not _TENANT.match(dom):
        return [
            _err(
                f"bad_tenant:{dom}", f"Tenant {dom!r} is not a tenant id or `*`; fix the domain field.", rule
            )
        ]
    if dom not in ("*", tenant):
        return [
            _err(f"foreign_tenant:{dom}", f"This is the policy of tenant {tenant!r}; a row for {dom!r} would "
                 f"never apply. Use `*` or {tenant!r} in the domain field.", rule)
        ]  # fmt: skip
    return []


def matched_tools(pattern: str, tools: Sequence[str]) -> list[str]:
    return [t for t in tools if pattern_matches(t, pattern)]


def _check_p(rule: Rule, tools: Sequence[str], tenant: str) -> list[Finding]:
    sub, dom, obj, act, eft = rule[1:]
    out = _role(sub, rule) + _tenant(dom, rule, tenant)
    if eft not in ("allow", "deny"):
        out.append(_err(f"bad_effect:{eft}", f"Effect {eft!r} must be `allow` or `deny`.", rule))
    if act == MANAGE:
        if obj != POLICY_OBJECT:
            out.append(
                _err(f"unknown_object:{obj}", "Only `policy` can be managed; use `call` for tools.", rule)
            )
    elif act != "call":
        out.append(_err(f"unknown_action:{act}", f"Action {act!r} must be `call` (tools) or `manage`.", rule))
    elif not matched_tools(obj, tools):
        out.append(
            _err(f"unknown_tool:{obj}", f"{obj!r} names no tool of the pack; use a tool name or a pattern "
                 f"such as `get_*` that matches one. Tools: {sorted(tools)}.", rule)
        )  # fmt: skip
    return out


def _check_p2(rule: Rule, tenant: str) -> list[Finding]:
    sub, dom, key, value = rule[1:]
    out = _role(sub, rule) + _tenant(dom, rule, tenant)
    if key == "scope":
        if value not in SCOPES:
            out.append(
                _err(f"bad_value:{sub}:scope", f"scope must be one of {list(SCOPES)}, not {value!r}.", rule)
            )
    elif key in NUMERIC_KEYS:
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and number >= 0):
            out.append(_err(f"bad_value:{sub}:{key}", f"{key} must be a number ≥ 0, not {value!r}.", rule))
    else:
        known = ["scope", *sorted(NUMERIC_KEYS)]
        out.append(_err(f"unknown_key:{key}", f"Unknown p2 key {key!r}; use one of {known}.", rule))
    return out


def _cycles(groups: list[Rule]) -> list[Finding]:
    parents: dict[str, set[str]] = {}
    for rule in groups:
        parents.setdefault(rule[1], set()).add(rule[2])

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for parent in parents.get(start, ()):
            if parent == target or (parent not in seen and reaches(parent, target, seen | {parent})):
                return True
        return False

    return [
        _err(f"role_cycle:{role}", f"Role {role!r} inherits from itself through `g` rows; remove one link.")
        for role in sorted(parents)
        if reaches(role, role, {role})
    ]


def _structure(rules: list[Rule], tools: Sequence[str], tenant: str) -> list[Finding]:
    out: list[Finding] = []
    for index, rule in enumerate(rules):
        arity = PTYPES.get(rule[0])
        if arity is None:
            out.append(_err(f"bad_ptype:{index}", f"Row {list(rule)} must start with p, p2 or g.", rule))
        elif len(rule) - 1 != arity or any(not cell for cell in rule):
            out.append(
                _err(f"arity:{index}", f"A {rule[0]} row has {arity} non-empty fields after the type; "
                     f"got {list(rule)}. See policies/README.md.", rule)
            )  # fmt: skip
        elif rule[0] == "p":
            out += _check_p(rule, tools, tenant)
        elif rule[0] == "p2":
            out += _check_p2(rule, tenant)
        else:
            out += _role(rule[1], rule) + _role(rule[2], rule) + _tenant(rule[3], rule, tenant)
    return out + _cycles([r for r in rules if r[0] == "g" and len(r) == 4])


def _keeps_an_admin(model_text: str, rules: list[Rule], tenant: str) -> list[Finding]:
    authorizer = CasbinAuthorizer.from_rules(model_text, rules)
    if any(authorizer.allows(role, tenant, POLICY_OBJECT, MANAGE) for role in TENANT_ROLES):
        return []
    return [
        _err("no_policy_admin", f"No role could manage the policy in tenant {tenant!r} any more; keep "
             "`p, admin, *, policy, manage, allow` (and no deny on it).")
    ]  # fmt: skip


def _warnings(rule: Rule, parent: list[Rule], tools: Mapping[str, str]) -> list[Finding]:
    out: list[Finding] = []
    if rule[0] == "p" and rule[5] == "allow" and rule[4] == "call":
        sub, dom, obj = rule[1], rule[2], rule[3]
        hits = matched_tools(obj, list(tools))
        if obj == "*":
            out.append(_warn(f"wildcard_tool:{sub}", f"{sub} may now call every tool ({len(hits)}).", rule))
        elif "*" in obj and any(tools[t] == "write" for t in hits):
            out.append(_warn(f"broad_pattern:{sub}:{obj}", f"{obj} grants {sub} the tools {hits}.", rule))
        narrower = [p for p in parent if p[0] == "p" and p[1] == sub and p[3] == obj and p[2] != "*"]
        if dom == "*" and narrower:
            tenants = sorted({p[2] for p in narrower})
            out.append(_warn(f"wildcard_tenant:{sub}:{obj}", f"{sub} gets {obj} in every tenant "
                             f"(before: {tenants}).", rule))  # fmt: skip
    if rule[0] == "p2" and rule[3] == "scope" and rule[4] in SCOPES:
        before = [
            p[4] for p in parent if p[0] == "p2" and p[1] == rule[1] and p[3] == "scope" and p[4] in SCOPES
        ]
        if before and SCOPES.index(rule[4]) > max(SCOPES.index(v) for v in before):
            out.append(_warn(f"scope_widened:{rule[1]}", f"{rule[1]} scope widens to {rule[4]}.", rule))
    return out


def lint(
    rules: Sequence[Rule], tools: Mapping[str, str], *, model_text: str, tenant: str,
    parent: Sequence[Rule] | None = None,
) -> list[Finding]:  # fmt: skip
    """Errors and warnings for `rules`; `tools` maps tool name → side effect; warnings cover only rows that
    are new relative to `parent` (every row when there is no parent)."""
    rows = normalize(rules)
    if not rows:
        return [_err("empty", "The rule set is empty; every call would be denied and no admin could fix it.")]
    findings = _structure(rows, list(tools), tenant)
    if findings:
        return findings
    findings = _keeps_an_admin(model_text, rows, tenant)
    old = normalize(parent or [])
    for rule in (r for r in rows if r not in set(old)):
        findings += _warnings(rule, old, tools)
    return findings


def errors_of(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def unacknowledged(findings: Sequence[Finding], acknowledged: Sequence[str]) -> list[Finding]:
    return [f for f in findings if f.severity == "warning" and f.id not in set(acknowledged)]
