"""The caller's tenant's policy tests (copilot/policy/suites.py), for its policy administrators: GET lists the
platform suites (always run, read-only) and the tenant's own, each with the active policy's results; PUT
replaces the tenant's own suites (refused while the active policy fails one of their required cases). Every
save of the tenant's policy (PUT /v1/policy, rollback) must pass them.

GET /v1/policy/tests, PUT /v1/policy/tests."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from copilot.api.deps import PrincipalDep
from copilot.api.errors import error_responses
from copilot.api.policy import ServiceDep
from copilot.policy.service import PolicyService
from copilot.policy.suites import MAX_SUITES
from copilot.policy.testing import CaseResult, failures

router = APIRouter(tags=["policy"], responses=error_responses(401, 403))
SUITE_EXAMPLE = "name: our rules\ncases:\n  - {role: customer, tool: cancel_pending_order, expect: allow}\n"


class SuiteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str = Field(max_length=69, description="File name, e.g. `refunds.yaml`.")
    text: Annotated[str, Field(max_length=200_000, examples=[SUITE_EXAMPLE])]


class SuitesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suites: list[SuiteIn] = Field(
        max_length=MAX_SUITES, description="Your tenant's suites (replaces them all)."
    )


def _results(results: list[CaseResult]) -> dict[str, Any]:
    failed = failures(results)
    return {"passed": not [f for f in failed if f.case.required], "total": len(results),
            "failures": [f.to_dict() for f in failed]}  # fmt: skip


def _view(service: PolicyService) -> dict[str, Any]:
    suites = service.test_suites()
    body = suites.to_dict() if suites else {"tenant": service.tenant, "platform": [], "suites": []}
    return {**body, "active_version": service.store.active_number(),
            "results": _results(service.run_tests(service.authorizer()))}  # fmt: skip


@router.get("/v1/policy/tests", summary="Your tenant's policy tests and the active policy's results")
def get_tests(service: ServiceDep) -> dict[str, Any]:
    return _view(service)


@router.put(
    "/v1/policy/tests", responses=error_responses(400, 422),
    summary="Replace your tenant's own policy test suites (the active policy must pass their required cases)",
)  # fmt: skip
def put_tests(body: SuitesIn, service: ServiceDep, principal: PrincipalDep) -> dict[str, Any]:
    service.save_tests({s.file: s.text for s in body.suites}, by=principal.label())
    return _view(service)
