"""The authenticated caller. Identity, tenant and role come only from here, never from model output."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

Role = Literal["guest", "customer", "agent", "supervisor", "admin", "platform"]
ROLES: tuple[Role, ...] = get_args(Role)
TENANT_ROLES: tuple[Role, ...] = tuple(r for r in ROLES if r != "platform")
"""Roles a tenant's policy may name. `platform` (the platform admin, copilot/tenants.py) is outside every
tenant: no tenant policy can grant it and it holds no tenant permission."""
STAFF_ROLES: frozenset[Role] = frozenset({"agent", "supervisor", "admin"})


@dataclass(frozen=True, slots=True)
class Principal:
    tenant: str
    role: Role
    user_id: str

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def label(self) -> str:
        return f"{self.role}:{self.user_id}@{self.tenant}"


def principal_claims(principal: Principal) -> dict[str, str]:
    """The principal as the user a LangGraph server auth handler returns (identity = its label)."""
    return {
        "identity": principal.label(),
        "tenant": principal.tenant,
        "role": principal.role,
        "user_id": principal.user_id,
    }


def principal_from_claims(user: Mapping[str, Any] | Any) -> Principal | None:
    """The principal back from such a user (a mapping or the server's user proxy); None if it is not one."""
    try:
        tenant, role, user_id = user["tenant"], user["role"], user["user_id"]
    except (KeyError, TypeError, AttributeError):
        return None
    if role not in ROLES or not all(isinstance(v, str) and v for v in (tenant, user_id)):
        return None
    return Principal(tenant=tenant, role=cast(Role, role), user_id=user_id)
