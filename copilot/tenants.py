"""Tenants: the registry the platform admin manages. A tenant id names a shop; its data, conversations and
policy are its own. The platform admin is not a tenant role: its tokens carry the reserved tenant
`PLATFORM_TENANT`, which can never be registered, so no tenant policy can grant it and no tenant token is one."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from copilot.errors import CopilotError, ErrorCode
from copilot.principal import Principal
from copilot.store.schema import tenants

PLATFORM_TENANT = "_platform"
PLATFORM_ROLE = "platform"
TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def is_platform_admin(principal: Principal) -> bool:
    """Only a `platform` token of the reserved platform tenant (never a tenant's token)."""
    return principal.role == PLATFORM_ROLE and principal.tenant == PLATFORM_TENANT


def check_tenant_id(tenant: str) -> str:
    if not TENANT_ID.match(tenant):
        raise CopilotError(
            ErrorCode.BAD_REQUEST,
            f"Tenant id {tenant!r} is not valid: use 1–64 lowercase letters, digits, '-', '_' or '.', "
            "starting with a letter or digit.",
        )
    return tenant


@dataclass(frozen=True, slots=True)
class Tenant:
    tenant: str
    name: str
    created_at: datetime
    created_by: str

    def to_dict(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "name": self.name, "created_at": self.created_at.isoformat(),
                "created_by": self.created_by}  # fmt: skip


class TenantRegistry:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, tenant: str) -> Tenant | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(tenants).where(tenants.c.tenant == tenant)).first()
        return Tenant(**row._mapping) if row else None

    def listing(self) -> list[Tenant]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(tenants).order_by(tenants.c.tenant)).all()
        return [Tenant(**row._mapping) for row in rows]

    def register(self, tenant: str, name: str, by: str) -> Tenant:
        """A new row; CONFLICT if the tenant exists."""
        record = Tenant(check_tenant_id(tenant), name or tenant, datetime.now(UTC), by)
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(tenants).values(**record.to_dict() | {"created_at": record.created_at}))
        except IntegrityError as exc:
            raise CopilotError(
                ErrorCode.CONFLICT, f"Tenant {tenant!r} already exists; list them with GET /v1/tenants."
            ) from exc
        return record

    def ensure(self, tenant: str, by: str) -> None:
        """Register `tenant` unless it is (the default tenant at start; idempotent across workers)."""
        if self.get(tenant) is None:
            with contextlib.suppress(CopilotError):  # another worker registered it first
                self.register(tenant, tenant, by)
