"""What-if: would principal P calling tool T with arguments A be allowed under a given rule set?

Runs the gateway's own stages (permission via `enforce_ex`, strict validation, ownership, handler dry-run in a
rolled-back transaction, limit) against the live store without executing anything or writing an audit row.
The handler's result and diff are not returned: only the amount, so the simulator reveals no customer data."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Engine

from copilot.errors import CopilotError
from copilot.gateway.authorization import LIMIT_KEY, check_limit, check_ownership
from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.gateway.sandbox import rolled_back, run_handler
from copilot.gateway.spec import Tool
from copilot.gateway.validation import Validator
from copilot.packs import Pack
from copilot.principal import Principal
from copilot.store.documents import DocumentStore


@dataclass
class Check:
    passed: bool | None  # None: not evaluated (an earlier stage already decided)
    detail: str = ""


@dataclass
class Simulation:
    decision: str  # "allow" | "deny" | "invalid"
    policy_version: str
    matched_rule: list[str]
    permission: Check
    validation: Check = field(default_factory=lambda: Check(None))
    ownership: Check = field(default_factory=lambda: Check(None))
    limit: Check = field(default_factory=lambda: Check(None))
    scope: str = "none"
    limit_value: float = 0.0
    amount: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Simulator:
    def __init__(self, engine: Engine, pack: Pack) -> None:
        self._engine = engine
        self._tools: dict[str, Tool] = {t.spec.name: t for t in pack.tools}
        self._validator = Validator()

    def simulate(
        self, authorizer: CasbinAuthorizer, principal: Principal, tool: str, arguments: dict[str, Any]
    ) -> Simulation:
        allowed, rule = authorizer.explain(principal.role, principal.tenant, tool)
        sim = Simulation(
            decision="deny", policy_version=authorizer.version, matched_rule=rule,
            permission=Check(allowed, "allowed by the matched rule" if allowed else _why_denied(rule)),
            scope=authorizer.scope(principal.role, principal.tenant),
            limit_value=authorizer.limit(principal.role, principal.tenant, LIMIT_KEY),
        )  # fmt: skip
        handler = self._tools.get(tool)
        if handler is None:
            sim.decision, sim.validation = "invalid", Check(False, f"unknown tool {tool!r}")
            return sim
        if allowed:
            self._stages(sim, authorizer, principal, handler, arguments)
        return sim

    def _stages(
        self, sim: Simulation, authorizer: CasbinAuthorizer, principal: Principal, tool: Tool, arguments: Any
    ) -> None:
        try:
            args = self._validator.validate(tool.spec, arguments)
        except CopilotError as exc:
            sim.decision, sim.validation = "invalid", Check(False, exc.message)
            return
        sim.validation = Check(True)
        with rolled_back(self._engine) as conn:
            store = DocumentStore(conn, principal.tenant)
            try:
                check_ownership(authorizer, principal, tool.spec, args, store)
            except CopilotError as exc:
                sim.ownership = Check(False, exc.message)
                return
            sim.ownership = Check(True, f"scope {sim.scope}")
            try:
                run = run_handler(tool, principal, store, args, dry_run=True)
            except CopilotError as exc:
                sim.limit = Check(None, f"dry-run stopped: {exc.message}")
                sim.decision = "allow"
                return
        sim.amount = run.amount
        try:
            check_limit(authorizer, principal, tool.spec.name, run.amount)
        except CopilotError as exc:
            sim.limit = Check(False, exc.message)
            return
        sim.limit = Check(
            True, "no money moves" if not run.amount else f"{abs(run.amount):.2f} ≤ {sim.limit_value:.2f}"
        )
        sim.decision = "allow"


def _why_denied(rule: list[str]) -> str:
    return f"denied by {rule}" if rule else "no rule allows it (default deny)"
