"""The authorization protocol the gateway depends on (Casbin lives behind it, in one module)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Literal, Protocol, cast

from sqlalchemy import Connection

Scope = Literal["own", "tenant", "none"]
"""own: only resources the principal owns; tenant: any resource of the tenant; none: no owned resources."""

CALL = "call"
"""The action of calling a tool (policy rows may also name other actions, e.g. `manage` on `policy`)."""


class Authorizer(Protocol):
    @property
    def version(self) -> str:
        """Changes whenever the policy changes; recorded in every audit row."""
        ...

    def allows(self, role: str, tenant: str, obj: str, act: str = CALL) -> bool:
        """RBAC with tenant domains and deny-override: may `role` in `tenant` do `act` on `obj`?"""
        ...

    def scope(self, role: str, tenant: str) -> Scope:
        """Which owned resources the role may name (missing → "none", fail closed)."""
        ...

    def limit(self, role: str, tenant: str, key: str) -> float:
        """A numeric limit such as `max_refund` (missing → 0.0, fail closed)."""
        ...


def pinned(
    authorizer: Authorizer, conn: Connection | None = None, tenant: str | None = None
) -> AbstractContextManager[object]:
    """Pin one version of `tenant`'s policy for a whole gateway decision when the authorizer reloads live
    (copilot/policy/reload.py); a no-op for a static authorizer. `conn`: read the live version stamp on
    this (already checked-out) connection instead of a fresh one."""
    pin = getattr(authorizer, "pinned", None)
    if not callable(pin):
        return nullcontext()
    return cast(AbstractContextManager[object], pin(conn, tenant))
