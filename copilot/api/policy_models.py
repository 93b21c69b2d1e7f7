"""HTTP bodies of the policy admin API (copilot/api/policy.py)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from copilot.api.limits import MAX_INT
from copilot.errors import CopilotError, ErrorCode
from copilot.policy.rules import Rule, parse_csv

RULES_EXAMPLE = [["p", "customer", "*", "cancel_pending_order", "call", "allow"]]
Row = Annotated[list[Annotated[str, Field(max_length=256)]], Field(min_length=2, max_length=8)]
"""One rule as cells, ptype first (p: 6 cells, p2: 5, g: 4; the linter names what is wrong)."""
Rows = Annotated[list[Row], Field(max_length=20_000)]
Version = Annotated[int, Field(ge=1, le=MAX_INT)]


def _at_most_one(rules: object, csv: object) -> None:
    if rules is not None and csv is not None:
        raise ValueError("send either `rules` (rows) or `csv` (policy.csv text), not both")


class RuleSetIn(BaseModel):
    """A proposed rule set: `rules` as rows (ptype first) or `csv` in policies/policy.csv format."""

    model_config = ConfigDict(extra="forbid")

    rules: Rows | None = Field(default=None, examples=[RULES_EXAMPLE])
    csv: str | None = Field(default=None, examples=["p, customer, *, calculate, call, allow\n"])

    @model_validator(mode="after")
    def _exactly_one(self) -> RuleSetIn:
        if (self.rules is None) == (self.csv is None):
            raise ValueError("send exactly one of `rules` (rows) or `csv` (policy.csv text)")
        return self

    def parsed(self) -> list[Rule]:
        if self.rules is not None:
            return [tuple(r) for r in self.rules]
        rules, errors = parse_csv(self.csv or "")
        if errors:
            raise CopilotError(
                ErrorCode.POLICY_INVALID, errors[0].message, details={"findings": [{"id": e.id, "message": e.message}
                                                                                   for e in errors]}
            )  # fmt: skip
        return rules


class PolicyWrite(RuleSetIn):
    message: str = Field(min_length=1, max_length=2000, description="Why: shown in the change log.")
    acknowledge: list[str] = Field(default_factory=list, description="Ids of lint warnings you accept.")


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Version = Field(description="The version whose rules become active again (as a new version).")
    message: str | None = Field(default=None, max_length=2000)
    acknowledge: list[str] = Field(default_factory=list)


class SimPrincipal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str
    tenant: str | None = Field(default=None, description="Defaults to your tenant.")
    user_id: str = "simulated"


class SimulateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    principal: SimPrincipal
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    version: Version | None = Field(default=None, description="A stored version (default: the active one).")
    rules: Rows | None = Field(default=None, description="A proposed, unsaved rule set.")
    csv: str | None = None

    @model_validator(mode="after")
    def _one_rule_set(self) -> SimulateIn:
        _at_most_one(self.rules, self.csv)
        return self

    def proposed(self) -> list[Rule] | None:
        if self.rules is None and self.csv is None:
            return None
        return RuleSetIn(rules=self.rules, csv=self.csv).parsed()


class SampleIn(BaseModel):
    role: str
    tenant: str | None = None
    object: str
    action: str = "call"


class DiffIn(BaseModel):
    """Compare decisions of `base` (a version; default active) with `version`, or with proposed rules."""

    model_config = ConfigDict(extra="forbid")

    base: Version | None = None
    version: Version | None = None
    rules: Rows | None = None
    csv: str | None = None
    samples: list[SampleIn] | None = Field(
        default=None, max_length=10_000, description="Default: every role × every tool."
    )

    @model_validator(mode="after")
    def _one_rule_set(self) -> DiffIn:
        _at_most_one(self.rules, self.csv)
        return self

    def proposed(self) -> list[Rule] | None:
        if self.rules is None and self.csv is None:
            return None
        return RuleSetIn(rules=self.rules, csv=self.csv).parsed()
