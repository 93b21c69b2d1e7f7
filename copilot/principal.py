"""The authenticated caller. Identity, tenant and role come only from here, never from model output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Role = Literal["guest", "customer", "agent", "supervisor", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
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
