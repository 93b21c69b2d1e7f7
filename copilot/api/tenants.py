"""Tenants API (the platform admin only: a `platform` token of the reserved platform tenant, which no tenant
token and no tenant policy can be or grant). Creating a tenant seeds its policy from policies/.

GET /v1/tenants, POST /v1/tenants, GET /v1/tenants/{tenant}."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, status
from pydantic import BaseModel, ConfigDict, Field

from copilot.api.deps import PrincipalDep
from copilot.api.errors import error_responses
from copilot.api.policy import PolicyDep
from copilot.errors import CopilotError, ErrorCode
from copilot.policy.service import PolicyService, create_tenant
from copilot.principal import Principal
from copilot.tenants import TENANT_ID, Tenant, TenantRegistry, is_platform_admin

router = APIRouter(tags=["tenants"], responses=error_responses(401, 403))


class TenantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str = Field(
        pattern=TENANT_ID.pattern, description="Lowercase id, e.g. `acme` (1–64 of a-z 0-9 - _ .)."
    )
    name: str = Field(default="", max_length=256, description="Display name (default: the id).")


def platform_admin(principal: PrincipalDep) -> Principal:
    if not is_platform_admin(principal):
        raise CopilotError(
            ErrorCode.FORBIDDEN,
            "Only the platform admin manages tenants (a token from `copilot token --role platform`); a tenant's "
            "admin manages its own policy under /v1/policy.",
        )
    return principal


PlatformDep = Annotated[Principal, Depends(platform_admin)]
TenantPath = Annotated[str, Path(max_length=64, description="Tenant id.")]


def _view(service: PolicyService, tenant: Tenant) -> dict[str, Any]:
    number = service.for_tenant(tenant.tenant).store.active_number()
    return {**tenant.to_dict(), "policy_version": number}


@router.get("/v1/tenants", summary="Every tenant with its active policy version (platform admin)")
def list_tenants(_who: PlatformDep, opened: PolicyDep) -> dict[str, Any]:
    service = opened[0]
    registry = TenantRegistry(service.store.engine)
    return {"tenants": [_view(service, t) for t in registry.listing()]}


@router.post(
    "/v1/tenants",
    status_code=status.HTTP_201_CREATED,
    summary="Create a tenant; its policy starts as version 1 seeded from policies/ (platform admin)",
    responses=error_responses(409, 422),
)
def post_tenant(body: TenantIn, who: PlatformDep, opened: PolicyDep) -> dict[str, Any]:
    service = opened[0]
    created = create_tenant(
        service, TenantRegistry(service.store.engine), body.tenant, body.name, who.label()
    )
    return _view(service, created)


@router.get("/v1/tenants/{tenant}", summary="One tenant (platform admin)", responses=error_responses(404))
def get_tenant(tenant: TenantPath, _who: PlatformDep, opened: PolicyDep) -> dict[str, Any]:
    service = opened[0]
    found = TenantRegistry(service.store.engine).get(tenant)
    if found is None:
        raise CopilotError(ErrorCode.NOT_FOUND, f"No tenant {tenant!r}; list them with GET /v1/tenants.")
    return _view(service, found)
