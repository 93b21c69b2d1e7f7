"""Policy tests as data (`policies/tests/*.yaml`), run like `opa test` against any authorizer.

name: seed decisions
cases:
  - {role: customer, tool: cancel_pending_order, expect: allow}          # tenant defaults to the policy's
  - {role: customer, object: policy, action: manage, expect: deny}
  - {role: agent, expect_scope: tenant}
  - {role: supervisor, limit: max_refund, expect_limit: 25000}
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from copilot.errors import CopilotError, ErrorCode
from copilot.gateway.authorizer import CALL, Authorizer


@dataclass(frozen=True, slots=True)
class PolicyCase:
    file: str
    index: int
    role: str
    tenant: str | None = None
    """None: the tenant whose policy is tested."""
    obj: str | None = None
    action: str = CALL
    expect: str | None = None
    expect_scope: str | None = None
    limit_key: str = "max_refund"
    expect_limit: float | None = None
    required: bool = True
    """False for suites marked `activation: advisory`: reported, but they do not block activation."""

    @property
    def label(self) -> str:
        what = f"{self.obj} {self.action}" if self.obj else ("scope" if self.expect_scope else self.limit_key)
        return f"{self.role}@{self.tenant or 'tenant'} {what}"


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: PolicyCase
    expected: str
    got: str

    @property
    def passed(self) -> bool:
        return self.expected == self.got

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.case.file, "index": self.case.index, "case": self.case.label,
                "expected": self.expected, "got": self.got, "passed": self.passed, "required": self.case.required}  # fmt: skip


def _case(file: str, index: int, raw: Any, required: bool) -> PolicyCase:
    if not isinstance(raw, dict) or not isinstance(raw.get("role"), str):
        raise CopilotError(ErrorCode.BAD_REQUEST, f"{file} case {index}: each case needs at least `role`.")
    limit = raw.get("expect_limit")
    case = PolicyCase(
        file=file, index=index, role=raw["role"], tenant=str(raw["tenant"]) if "tenant" in raw else None,
        obj=raw.get("tool", raw.get("object")), action=str(raw.get("action", CALL)), expect=raw.get("expect"),
        expect_scope=raw.get("expect_scope"), limit_key=str(raw.get("limit", "max_refund")),
        expect_limit=float(limit) if limit is not None else None, required=required,
    )  # fmt: skip
    if case.expect not in (None, "allow", "deny") or (case.expect is None) != (case.obj is None):
        raise CopilotError(
            ErrorCode.BAD_REQUEST, f"{file} case {index}: `tool`/`object` goes with `expect: allow|deny`."
        )
    if case.obj is None and case.expect_scope is None and case.expect_limit is None:
        raise CopilotError(
            ErrorCode.BAD_REQUEST, f"{file} case {index}: expect a decision, a scope or a limit."
        )
    return case


def parse_suite(text: str, file: str) -> list[PolicyCase]:
    data = yaml.safe_load(text) or {}
    cases = data.get("cases") if isinstance(data, dict) else None
    if not isinstance(cases, list):
        raise CopilotError(ErrorCode.BAD_REQUEST, f"{file}: expected a mapping with a `cases:` list.")
    required = data.get("activation", "required") != "advisory"
    return [_case(file, i, raw, required) for i, raw in enumerate(cases)]


def load_suites(test_dir: Path) -> list[PolicyCase]:
    """Every case of every `*.yaml` file under `test_dir`, in file order."""
    cases: list[PolicyCase] = []
    for path in sorted(test_dir.glob("*.yaml")):
        cases += parse_suite(path.read_text(encoding="utf-8"), path.name)
    return cases


def _results(authorizer: Authorizer, case: PolicyCase, tenant: str) -> Iterable[CaseResult]:
    tenant = case.tenant or tenant
    case = replace(case, tenant=tenant)
    if case.obj is not None and case.expect is not None:
        got = "allow" if authorizer.allows(case.role, tenant, case.obj, case.action) else "deny"
        yield CaseResult(case, case.expect, got)
    if case.expect_scope is not None:
        yield CaseResult(case, f"scope {case.expect_scope}", f"scope {authorizer.scope(case.role, tenant)}")
    if case.expect_limit is not None:
        got_limit = authorizer.limit(case.role, tenant, case.limit_key)
        yield CaseResult(case, f"{case.limit_key} {case.expect_limit:g}", f"{case.limit_key} {got_limit:g}")


def run_cases(authorizer: Authorizer, cases: Iterable[PolicyCase], tenant: str = "demo") -> list[CaseResult]:
    """Every case against `authorizer`; a case without a `tenant` runs in `tenant` (the policy's own)."""
    return [result for case in cases for result in _results(authorizer, case, tenant)]


def failures(results: Iterable[CaseResult], *, required_only: bool = False) -> list[CaseResult]:
    return [r for r in results if not r.passed and (r.case.required or not required_only)]


def report(results: list[CaseResult], *, verbose: bool = False) -> str:
    """`opa test`-like text: failures (every case with verbose), then PASS/FAIL counts."""
    lines = []
    for r in results:
        if verbose or not r.passed:
            status = "PASS" if r.passed else "FAIL"
            lines.append(f"{r.case.file}: {status}: {r.case.label}: expected {r.expected}, got {r.got}")
    failed = len(failures(results))
    lines.append("-" * 80)
    lines.append(f"PASS: {len(results) - failed}/{len(results)}")
    if failed:
        lines.append(f"FAIL: {failed}/{len(results)}")
    return "\n".join(lines)
