"""The policy admin service of one tenant: read, validate, test, simulate, diff, save and roll back — the one
place that combines store, lint, tests and the notifier, used by the HTTP API and the CLI. `for_tenant` gives
another tenant's service; `create_tenant` registers a tenant and seeds its policy from policies/."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from copilot.errors import CopilotError, ErrorCode
from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.packs import Pack
from copilot.policy.diff import Sample, decision_diff, default_samples, role_table
from copilot.policy.lint import errors_of, lint, unacknowledged
from copilot.policy.reload import LiveAuthorizer, PolicyNotifier, local_notifier
from copilot.policy.rules import Finding, Rule, normalize, parse_csv
from copilot.policy.simulate import Simulation, Simulator
from copilot.policy.store import (
    PolicyConflict,
    PolicyStore,
    PolicyVersion,
    PreconditionRequired,
    normalize_etag,
)
from copilot.policy.suites import SuiteStore, TenantSuites, read_suite_files
from copilot.policy.testing import CaseResult, PolicyCase, failures, load_suites, run_cases
from copilot.principal import Principal
from copilot.tenants import Tenant, TenantRegistry, check_tenant_id


def findings_dict(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    return [{"id": f.id, "severity": f.severity, "message": f.message, "rule": f.rule} for f in findings]


def read_seed(policy_dir: Path) -> tuple[str, list[Rule]]:
    """model.conf text and the rows of policy.csv."""
    rules, errors = parse_csv((policy_dir / "policy.csv").read_text(encoding="utf-8"))
    if errors:
        raise CopilotError(ErrorCode.CONFIGURATION, f"policies/policy.csv: {errors[0].message}")
    return (policy_dir / "model.conf").read_text(encoding="utf-8"), rules


@dataclass
class PolicyService:
    store: PolicyStore
    pack: Pack
    notifier: PolicyNotifier
    tests: list[PolicyCase]
    seed: list[Rule]
    """policies/policy.csv: version 1 of every new tenant."""
    suites: SuiteStore | None = None
    """Each tenant's own policy tests (copilot/policy/suites.py); None: `tests` for every tenant."""

    @property
    def tenant(self) -> str:
        return self.store.tenant

    def for_tenant(self, tenant: str) -> PolicyService:
        """The same service over `tenant`'s policy (its versions, history, tests and simulator)."""
        return replace(self, store=self.store.for_tenant(tenant))

    @property
    def tools(self) -> dict[str, str]:
        return {t.spec.name: t.spec.side_effect for t in self.pack.tools}

    def authorizer(
        self, *, version: int | None = None, rules: Sequence[Rule] | None = None
    ) -> CasbinAuthorizer:
        """Proposed rules, a stored version, or (neither) the active version."""
        if rules is not None:
            return CasbinAuthorizer.from_rules(self.store.model_text, normalize(rules), label="proposed")
        chosen = self.store.get(version) if version is not None else self.store.active()
        return CasbinAuthorizer.from_rules(self.store.model_text, chosen.rules, label=f"v{chosen.version}")

    # -- reads ------------------------------------------------------------------------------------------------
    def overview(self) -> dict[str, Any]:
        active = self.store.active()
        table = role_table(self.authorizer(rules=active.rules), list(self.tools), self.tenant)
        return {**active.to_dict(), "table": table, "tenant": self.tenant}

    def validate(self, rules: Sequence[Rule], parent: Sequence[Rule] | None = None) -> list[Finding]:
        base = self.store.active().rules if parent is None else parent
        return lint(rules, self.tools, model_text=self.store.model_text, tenant=self.tenant, parent=base)

    def test_suites(self) -> TenantSuites | None:
        return self.suites.of(self.tenant) if self.suites is not None else None

    def run_tests(self, authorizer: CasbinAuthorizer, suites: TenantSuites | None = None) -> list[CaseResult]:
        """This tenant's policy tests (or `suites`, proposed ones) against `authorizer`."""
        chosen = suites or self.test_suites()
        return run_cases(authorizer, chosen.cases() if chosen else self.tests, self.tenant)

    def save_tests(self, files: dict[str, str], *, by: str) -> tuple[TenantSuites, list[CaseResult]]:
        """Replace this tenant's own suites; refused (POLICY_TESTS_FAILED) while its active policy fails one
        of their required cases, so the active policy always passes its tenant's tests."""
        if self.suites is None:
            raise CopilotError(ErrorCode.CONFIGURATION, "Policy tests are not stored in this deployment.")
        proposed = self.suites.check(self.tenant, files)
        results = self.run_tests(self.authorizer(), proposed)
        failed = failures(results, required_only=True)
        if failed:
            raise CopilotError(
                ErrorCode.POLICY_TESTS_FAILED,
                f"The tests were not saved: the active policy fails {len(failed)} required case(s); mark the suite "
                f"`activation: advisory` or change the policy first. First: {failed[0].case.file}: "
                f"{failed[0].case.label}: expected {failed[0].expected}, got {failed[0].got}.",
                details={"failures": [r.to_dict() for r in failed]},
            )
        return self.suites.save(proposed, by), results

    def simulate(
        self, authorizer: CasbinAuthorizer, principal: Principal, tool: str, args: dict[str, Any], *,
        by: Principal,
    ) -> Simulation:  # fmt: skip
        """What-if on the synthetic fixture, audited as `by`'s (see copilot/policy/simulate.py)."""
        return Simulator(self.store.engine, self.pack).simulate(authorizer, principal, tool, args, by=by)

    def diff_decisions(
        self, before: CasbinAuthorizer, after: CasbinAuthorizer, samples: Sequence[Sample] | None = None
    ) -> dict[str, Any]:
        return decision_diff(before, after, samples or default_samples(list(self.tools), self.tenant))

    # -- writes -----------------------------------------------------------------------------------------------
    def _check_etag(self, if_match: str | None) -> PolicyVersion:
        if not if_match:
            raise PreconditionRequired()
        active = self.store.active()
        if normalize_etag(if_match) != active.etag:
            raise PolicyConflict(active.version)
        return active

    def _refuse_unless_clean(
        self, rules: list[Rule], active: PolicyVersion, acknowledge: Sequence[str]
    ) -> None:
        findings = self.validate(rules, active.rules)
        errors = errors_of(findings)
        if errors:
            raise CopilotError(
                ErrorCode.POLICY_INVALID,
                f"The policy was not saved: {errors[0].message}"
                + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""),
                details={"findings": findings_dict(errors)},
            )
        pending = unacknowledged(findings, acknowledge)
        if pending:
            raise CopilotError(
                ErrorCode.POLICY_UNACKNOWLEDGED,
                "The policy was not saved: it grants more than before. Review the warnings and send their ids in "
                f"`acknowledge` to save anyway: {[w.id for w in pending]}.",
                details={"warnings": findings_dict(pending)},
            )
        failed = failures(self.run_tests(self.authorizer(rules=rules)), required_only=True)
        if failed:
            raise CopilotError(
                ErrorCode.POLICY_TESTS_FAILED,
                f"The policy was not saved: {len(failed)} of tenant {self.tenant!r}'s policy tests fail "
                "(GET /v1/policy/tests); fix the rules or the tests. First: "
                + f"{failed[0].case.file}: {failed[0].case.label}: expected "
                f"{failed[0].expected}, got {failed[0].got}.",
                details={"failures": [r.to_dict() for r in failed]},
            )

    def save(
        self, rules: Sequence[Rule], *, author: str, message: str, if_match: str | None,
        acknowledge: Sequence[str] = (),
    ) -> PolicyVersion:  # fmt: skip
        """Validate (errors, acknowledged warnings, policy tests) then activate as a new version."""
        active = self._check_etag(if_match)
        rows = normalize(rules)
        self._refuse_unless_clean(rows, active, acknowledge)
        version = self.store.activate(rows, author=author, message=message, if_match=if_match)
        self.notifier.publish(version.version)
        return version

    def rollback(
        self, target: int, *, author: str, if_match: str | None, acknowledge: Sequence[str] = (),
        message: str | None = None,
    ) -> PolicyVersion:  # fmt: skip
        """A new version whose rules equal version `target`'s (validated and tested like any change)."""
        active = self._check_etag(if_match)
        old = self.store.get(target)
        self._refuse_unless_clean(old.rules, active, acknowledge)
        version = self.store.activate(
            old.rules, author=author, message=message or f"rollback to version {target}", if_match=if_match,
            kind="rollback", rollback_of=target,
        )  # fmt: skip
        self.notifier.publish(version.version)
        return version


def create_tenant(
    service: PolicyService, registry: TenantRegistry, tenant: str, name: str, by: str
) -> Tenant:
    """Register `tenant` with version 1 of its policy seeded from policies/ (CONFLICT if it exists). The seed
    goes first: a crash in between leaves a policy without a registry row, which a retry completes."""
    store = service.for_tenant(check_tenant_id(tenant)).store
    store.seed_if_empty(service.seed, author=by)
    return registry.register(tenant, name, by)


def open_policy(
    engine: Engine, pack: Pack, policy_dir: Path, *, tenant: str = "demo", poll_ms: float = 0.0,
    notifier: PolicyNotifier | None = None,
) -> tuple[PolicyService, LiveAuthorizer]:  # fmt: skip
    """Register the default `tenant` and seed its policy from `policy_dir` on first start; the tenant's admin
    service and the gateway's live authorizer (which serves every tenant)."""
    model_text, seed = read_seed(policy_dir)
    store = PolicyStore(engine, model_text, tenant)
    store.seed_if_empty(seed)
    TenantRegistry(engine).ensure(tenant, "system:seed")
    notifier = notifier or local_notifier(str(engine.url))
    suites = SuiteStore(engine, read_suite_files(policy_dir / "tests"))
    service = PolicyService(store, pack, notifier, load_suites(policy_dir / "tests"), seed, suites)
    return service, LiveAuthorizer(store, notifier, poll_ms=poll_ms)
