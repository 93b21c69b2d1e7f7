"""Policy admin API of the caller's tenant (whoever the tenant's active policy lets `manage` `policy`: the
admin role by default). Every route works on the caller's own tenant only; tenants are the platform admin's
(copilot/api/tenants.py).

Reads: GET /v1/policy, /v1/policy/versions[/{n}], /v1/policy/changes, /v1/audit.
Dry runs: POST /v1/policy/validate, /simulate, /diff-decisions. Writes (If-Match: the active etag):
PUT /v1/policy, POST /v1/policy/rollback. See policies/README.md for the full contract."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from copilot.api.deps import PrincipalDep, RuntimeDep
from copilot.api.errors import error_responses
from copilot.api.limits import MAX_INT
from copilot.api.policy_models import DiffIn, PolicyWrite, RollbackIn, RuleSetIn, SimulateIn
from copilot.errors import CopilotError, ErrorCode
from copilot.packs import load_pack
from copilot.policy.audit_query import AuditFilter, query_audit
from copilot.policy.diff import Sample
from copilot.policy.lint import MANAGE, POLICY_OBJECT, errors_of
from copilot.policy.reload import LiveAuthorizer
from copilot.policy.rules import Rule
from copilot.policy.service import PolicyService, findings_dict, open_policy
from copilot.policy.testing import failures
from copilot.principal import Principal

router = APIRouter(tags=["policy"], responses=error_responses(401, 403))


def _policy(request: Request, runtime: RuntimeDep) -> tuple[PolicyService, LiveAuthorizer]:
    opened: tuple[PolicyService, LiveAuthorizer] | None = getattr(request.app.state, "policy", None)
    if opened is None:
        settings = runtime.settings
        pack = load_pack(settings.pack_path)
        opened = open_policy(runtime.engine, pack, settings.policy_dir, tenant=settings.default_tenant)
        request.app.state.policy = opened
    return opened


PolicyDep = Annotated[tuple[PolicyService, LiveAuthorizer], Depends(_policy)]


def admin_service(principal: PrincipalDep, opened: PolicyDep) -> PolicyService:
    """The caller's tenant's policy service; 403 `forbidden` unless that tenant's active policy lets the
    caller's role manage it (a tenant without a policy lets nobody)."""
    service, live = opened
    if not live.allows(principal.role, principal.tenant, POLICY_OBJECT, MANAGE):
        raise CopilotError(
            ErrorCode.FORBIDDEN,
            f"Only policy administrators of tenant {principal.tenant!r} (the admin role) may use the policy "
            "API.",
        )
    return service.for_tenant(principal.tenant)


def _own_tenant(asked: str | None, principal: Principal) -> str:
    """A tenant admin simulates and compares decisions in its own tenant only."""
    if asked is not None and asked != principal.tenant:
        raise CopilotError(
            ErrorCode.FORBIDDEN,
            f"You administer tenant {principal.tenant!r} only; leave `tenant` out or set it to {principal.tenant!r}.",
        )
    return principal.tenant


ServiceDep = Annotated[PolicyService, Depends(admin_service)]
IfMatch = Annotated[str | None, Header(description="The etag of the version you edited (GET /v1/policy).")]


def _with_etag(response: Response, body: dict[str, Any]) -> dict[str, Any]:
    response.headers["ETag"] = str(body["etag"])
    return body


@router.get("/v1/policy", summary="The active policy: rules, etag and a role → tools/conditions table")
def get_policy(service: ServiceDep, response: Response) -> dict[str, Any]:
    return _with_etag(response, service.overview())


@router.get("/v1/policy/versions", summary="Version history, newest first (without rule sets)")
def list_versions(
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> dict[str, Any]:
    versions, total = service.store.history(limit=limit, offset=offset)
    active = service.store.active().version
    return {"versions": [v.to_dict(rules=False) for v in versions], "total": total, "active": active}


@router.get("/v1/policy/versions/{number}", summary="One version with its rules and the diff vs its parent")
def get_version(number: Annotated[int, Path(ge=1, le=MAX_INT)], service: ServiceDep) -> dict[str, Any]:
    return service.store.get(number).to_dict()


@router.get("/v1/policy/changes", summary="The policy change log: who changed what, when and why")
def list_changes(
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> dict[str, Any]:
    versions, total = service.store.history(limit=limit, offset=offset)
    items = [
        {
            k: v.to_dict(rules=False)[k]
            for k in ("version", "created_at", "author", "kind", "message", "rollback_of", "diff")
        }
        for v in versions
    ]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.post("/v1/policy/validate", summary="Lint and test a proposed rule set (nothing is saved)")
def validate(body: RuleSetIn, service: ServiceDep) -> dict[str, Any]:
    rules = body.parsed()
    findings = service.validate(rules)
    result: dict[str, Any] = {"valid": not errors_of(findings), "findings": findings_dict(findings)}
    if result["valid"]:
        proposed = service.authorizer(rules=rules)
        failed = failures(service.run_tests(proposed))
        blocking = [f for f in failed if f.case.required]
        result["tests"] = {"passed": not blocking, "failures": [f.to_dict() for f in failed]}
        result["decision_diff"] = service.diff_decisions(service.authorizer(), proposed)
    return result


def _valid(service: PolicyService, proposed: list[Rule] | None) -> list[Rule] | None:
    if proposed is not None and errors_of(service.validate(proposed)):
        raise CopilotError(
            ErrorCode.POLICY_INVALID, "The proposed rules do not validate; POST them to /v1/policy/validate."
        )
    return proposed


@router.post("/v1/policy/simulate", summary="What-if: the decision, matched rule, ownership and limit checks")
def simulate(body: SimulateIn, service: ServiceDep, principal: PrincipalDep) -> dict[str, Any]:
    proposed = _valid(service, body.proposed())
    authorizer = service.authorizer(version=body.version, rules=proposed)
    who = Principal(tenant=_own_tenant(body.principal.tenant, principal), role=body.principal.role,  # type: ignore[arg-type]
                    user_id=body.principal.user_id)  # fmt: skip
    return service.simulate(authorizer, who, body.tool, body.arguments, by=principal).to_dict()


@router.post("/v1/policy/diff-decisions", summary="Requests whose decision differs between two rule sets")
def diff_decisions(body: DiffIn, service: ServiceDep, principal: PrincipalDep) -> dict[str, Any]:
    before = service.authorizer(version=body.base)
    after = service.authorizer(version=body.version, rules=_valid(service, body.proposed()))
    samples = None
    if body.samples:
        samples = [Sample(s.role, _own_tenant(s.tenant, principal), s.object, s.action) for s in body.samples]
    return service.diff_decisions(before, after, samples)


@router.put("/v1/policy", summary="Save a new version (If-Match required; validated, tested, then activated)")
def put_policy(
    body: PolicyWrite,
    service: ServiceDep,
    principal: PrincipalDep,
    response: Response,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    version = service.save(body.parsed(), author=principal.label(), message=body.message, if_match=if_match,
                           acknowledge=body.acknowledge)  # fmt: skip
    return _with_etag(response, version.to_dict())


@router.post("/v1/policy/rollback", summary="Make an old version's rules active again, as a new version")
def rollback(
    body: RollbackIn,
    service: ServiceDep,
    principal: PrincipalDep,
    response: Response,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    version = service.rollback(body.version, author=principal.label(), if_match=if_match,
                               acknowledge=body.acknowledge, message=body.message)  # fmt: skip
    return _with_etag(response, version.to_dict())


@router.get("/v1/audit", summary="Gateway decisions of your tenant, newest first (filterable, paginated)")
def audit(
    *,
    service: ServiceDep,
    principal: PrincipalDep,
    tool: str | None = None,
    who: Annotated[str | None, Query(alias="principal", description="e.g. customer:ethan@demo")] = None,
    outcome: str | None = None,
    conversation_id: str | None = None,
    policy_version: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> dict[str, Any]:
    where = AuditFilter(principal.tenant, tool, who, outcome, conversation_id, policy_version)
    return query_audit(service.store.engine, where, limit=limit, offset=offset)
