"""Authorization stage: role/tenant permission, ownership scope and numeric limits.

A missing and a foreign resource get the same denial, so a denial never reveals that something exists.
"""

from __future__ import annotations

from typing import Any

from copilot.errors import CopilotError, ErrorCode
from copilot.gateway.authorizer import Authorizer
from copilot.gateway.spec import ToolSpec
from copilot.principal import Principal
from copilot.store.documents import DocumentStore

LIMIT_KEY = "max_refund"


def ownership_denied(tool: str) -> CopilotError:
    return CopilotError(
        ErrorCode.DENIED,
        f"{tool} was refused: you can only act on your own account, orders and payment methods. "
        "Use an id from your own account, or ask for a human agent.",
    )


def check_permission(authorizer: Authorizer, principal: Principal, tool: str) -> None:
    """RBAC in the principal's tenant (deny-override)."""
    if not authorizer.allows(principal.role, principal.tenant, tool):
        raise CopilotError(
            ErrorCode.DENIED,
            f"The {principal.role} role may not call {tool}. Offer another way to help or hand off to a human.",
        )


def _values(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def check_ownership(
    authorizer: Authorizer, principal: Principal, spec: ToolSpec, args: dict[str, Any], store: DocumentStore
) -> None:
    """Every `owned` argument must name a resource the principal may touch under its scope."""
    named = {name: kind for name, kind in spec.owned.items() if args.get(name) is not None}
    if not named:
        return
    scope = authorizer.scope(principal.role, principal.tenant)
    if scope == "tenant":
        return
    if scope != "own":
        raise ownership_denied(spec.name)
    for name, kind in named.items():
        for value in _values(args[name]):
            if not isinstance(value, str) or store.owner_of(kind, value) != principal.user_id:
                raise ownership_denied(spec.name)


def check_limit(authorizer: Authorizer, principal: Principal, tool: str, amount: float | None) -> None:
    """Money moved by one call (refund or charge) must not exceed the role's limit."""
    if amount is None or amount == 0:
        return
    limit = authorizer.limit(principal.role, principal.tenant, LIMIT_KEY)
    if not abs(amount) <= limit:
        raise CopilotError(
            ErrorCode.LIMIT_EXCEEDED,
            f"{tool} moves {abs(amount):.2f}, above the {principal.role} limit of {limit:.2f}. "
            "Hand off to a supervisor or a human agent.",
            details={"amount": abs(amount), "limit": limit},
        )
