"""Approval routing: a write over the caller's limit, once the caller confirmed its preview, becomes a request a
supervisor approves before it runs. The gateway records the request in the confirmation's transaction and asks
for the decision inside the executing transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy import Connection

from copilot.errors import CopilotError, ErrorCode
from copilot.gateway.authorization import check_limit, check_permission
from copilot.gateway.authorizer import Authorizer
from copilot.gateway.result import Preview
from copilot.gateway.steps import Stop, guarded
from copilot.principal import Principal

REQUESTERS = frozenset({"customer", "agent"})
"""Roles whose over-limit writes become approval requests (others are denied)."""

ApprovalStatus = Literal["pending", "approved", "rejected"]


@dataclass(frozen=True, slots=True)
class ApprovalDecision:
    approval_id: str
    status: ApprovalStatus
    decided_by: Principal | None
    """The approving supervisor (the limit of the execution is theirs)."""


class ApprovalRouter(Protocol):
    def request(
        self, principal: Principal, tool: str, arguments: dict[str, Any], *, conversation_id: str | None,
        details: dict[str, Any], preview_id: str, conn: Connection, description: Sequence[str] = (),
    ) -> str:  # fmt: skip
        """Record a pending request for `preview_id` inside `conn`'s transaction; its id."""
        ...

    def decision(self, tenant: str, preview_id: str, conn: Connection) -> ApprovalDecision | None:
        """The request for `preview_id` as it stands (None: no request)."""
        ...


def approval_needed(
    authorizer: Authorizer,
    approvals: ApprovalRouter | None,
    principal: Principal,
    tool: str,
    amount: float | None,
) -> dict[str, Any] | None:
    """Within the limit: None. Over a customer's or agent's limit (with approvals configured): the approval the
    confirmed preview will need ({amount, limit, approver}); otherwise over the limit is a denial (Stop)."""
    try:
        guarded(lambda: check_limit(authorizer, principal, tool, amount), stage="limit")
    except Stop as stop:
        if (
            approvals is None
            or principal.role not in REQUESTERS
            or stop.error.code != ErrorCode.LIMIT_EXCEEDED
        ):
            raise
        return {**stop.error.details, "approver": "supervisor"}
    return None


def approver_of(
    authorizer: Authorizer, approvals: ApprovalRouter | None, principal: Principal, preview: Preview,
    conn: Connection,
) -> Principal | None:  # fmt: skip
    """Inside the executing transaction: None for a preview within the caller's limit; else the supervisor who
    approved it (the execution's limit is theirs). Pending or rejected stops the execution."""
    if preview.approval is None:
        return None
    decision = approvals.decision(principal.tenant, preview.preview_id, conn) if approvals else None
    if decision is None or decision.status == "pending" or decision.decided_by is None:
        details = {"approval_id": decision.approval_id} if decision is not None else {}
        raise Stop("denied", CopilotError(
            ErrorCode.APPROVAL_PENDING,
            "This change is over your limit and waits for a supervisor's approval; the outcome will appear here.",
            details=details,
        ))  # fmt: skip
    if decision.status != "approved":
        raise Stop("denied", CopilotError(
            ErrorCode.APPROVAL_REJECTED, "A supervisor declined this change; nothing was changed.",
            details={"approval_id": decision.approval_id},
        ))  # fmt: skip
    approver = decision.decided_by
    guarded(lambda: check_permission(authorizer, approver, preview.tool))
    return approver
