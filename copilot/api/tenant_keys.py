"""A tenant's customer-token keys (platform admin only; copilot/tenant_keys.py): list, create, rotate with a
grace period, retire. A secret is in the create/rotate answer only; the shop's backend signs its customers'
tokens with it (`copilot.auth.mint_customer_token`), and it can sign nothing else.

GET/POST /v1/tenants/{tenant}/keys, POST /v1/tenants/{tenant}/keys/rotate, DELETE /v1/tenants/{tenant}/keys/{kid}."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, ConfigDict, Field

from copilot.api.deps import RuntimeDep
from copilot.api.errors import error_responses
from copilot.api.tenants import PlatformDep, TenantPath
from copilot.errors import CopilotError, ErrorCode
from copilot.runtime import Runtime
from copilot.tenant_keys import ManagedKey, TenantKeyStore, open_tenant_keys
from copilot.tenants import TenantRegistry

router = APIRouter(tags=["tenants"], responses=error_responses(401, 403, 404))
DEFAULT_GRACE = 12 * 3600
"""A rotation's default grace: the token lifetime, so every token signed with the old key stays valid."""
SHOWN_ONCE = (
    "Store this secret in the shop's backend now: it is not shown again. It signs only customer tokens of "
    "this tenant, with `iss` = the tenant id and the key id as `kid`."
)


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_seconds: int = Field(
        default=DEFAULT_GRACE, ge=0, le=30 * 86400,
        description="How long the tenant's other keys keep verifying (default 12 h, the token lifetime).",
    )  # fmt: skip


def _store(runtime: Runtime, tenant: str) -> TenantKeyStore:
    if TenantRegistry(runtime.engine).get(tenant) is None:
        raise CopilotError(ErrorCode.NOT_FOUND, f"No tenant {tenant!r}; list them with GET /v1/tenants.")
    return runtime.tenant_keys or open_tenant_keys(runtime.engine, runtime.settings, runtime.secret)


def _now() -> datetime:
    return datetime.now(UTC)


def _created(key: ManagedKey, secret: str) -> dict[str, Any]:
    return {"key": key.to_dict(_now()), "secret": secret, "note": SHOWN_ONCE}


@router.get(
    "/v1/tenants/{tenant}/keys", summary="A tenant's managed customer-token keys, no secrets (platform admin)"
)
def list_keys(tenant: TenantPath, _who: PlatformDep, runtime: RuntimeDep) -> dict[str, Any]:
    store = _store(runtime, tenant)
    now = _now()
    return {"tenant": tenant, "keys": [k.to_dict(now) for k in store.listing(tenant)],
            "configured": len(runtime.settings.tenant_keys.get(tenant, []))}  # fmt: skip


@router.post(
    "/v1/tenants/{tenant}/keys", status_code=status.HTTP_201_CREATED,
    summary="Create a customer-token key for a tenant; the secret is shown once (platform admin)",
)  # fmt: skip
def create_key(tenant: TenantPath, who: PlatformDep, runtime: RuntimeDep) -> dict[str, Any]:
    return _created(*_store(runtime, tenant).create(tenant, who.label()))


@router.post(
    "/v1/tenants/{tenant}/keys/rotate", status_code=status.HTTP_201_CREATED, responses=error_responses(422),
    summary="A new key; the tenant's other keys keep verifying for the grace period, then expire (platform admin)",
)  # fmt: skip
def rotate_key(tenant: TenantPath, body: RotateIn, who: PlatformDep, runtime: RuntimeDep) -> dict[str, Any]:
    store = _store(runtime, tenant)
    return _created(*store.rotate(tenant, who.label(), timedelta(seconds=body.grace_seconds)))


@router.delete(
    "/v1/tenants/{tenant}/keys/{kid}", summary="Retire a key now: its tokens stop verifying (platform admin)"
)
def retire_key(
    tenant: TenantPath, kid: Annotated[str, Path(max_length=96)], _who: PlatformDep, runtime: RuntimeDep
) -> dict[str, Any]:
    return {"key": _store(runtime, tenant).retire(tenant, kid).to_dict(_now())}
