"""The authenticated caller. Identity, tenant and role come only from here, never from model output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

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
