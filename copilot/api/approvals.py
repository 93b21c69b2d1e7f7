"""Approvals inbox: writes over the caller's limit that the caller already confirmed, with the same before →
after diff they saw, decided once by a supervisor of the tenant (who is recorded)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from copilot.api.deps import RuntimeDep
from copilot.api.errors import error_responses
from copilot.api.handoff import StaffDep
from copilot.handoff.approvals import Approval, ApprovalStore
from copilot.handoff.staff import require_staff

router = APIRouter(prefix="/v1/approvals", tags=["approvals"])


class ApprovalDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"approve": True}]})

    approve: bool = Field(strict=True)


class ApprovalOut(BaseModel):
    approval_id: str
    conversation_id: str | None
    requested_by: str
    tool: str
    arguments: dict[str, Any]
    amount: float | None
    limit: float | None
    status: Literal["pending", "approved", "rejected"]
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    preview_id: str | None
    result: dict[str, Any] | None = Field(description="What ran: {outcome, result | code, message}.")
    description: list[str] = Field(
        default_factory=list, description="The write as plain sentences (what changes, amounts, where, when)."
    )
    preview: dict[str, Any] | None = Field(
        default=None,
        description="The preview the requester confirmed: summary, changes (before → after), amount.",
    )


class ApprovalList(BaseModel):
    approvals: list[ApprovalOut]


def _out(approval: Approval, preview: dict[str, Any] | None) -> ApprovalOut:
    data = {k: getattr(approval, k) for k in ApprovalOut.model_fields if k != "preview"}
    data["description"] = data["description"] or []
    return ApprovalOut.model_validate(data | {"preview": _diff(preview)})


def _diff(body: dict[str, Any] | None) -> dict[str, Any] | None:
    """The stored preview as the requester's card showed it (field → [before, after] per record)."""
    if body is None:
        return None
    changes = [{"kind": c["kind"], "id": c["id"], "changed": c["changed"]} for c in body.get("changes", [])]
    return {"summary": body.get("summary"), "changes": changes, "amount": body.get("amount"),
            "facts": body.get("facts", {})}  # fmt: skip


def _with_previews(store: ApprovalStore, tenant: str, rows: list[Approval]) -> list[ApprovalOut]:
    return [_out(row, store.preview_of(tenant, row.preview_id)) for row in rows]


@router.get("", summary="Staff: the tenant's approval requests", responses=error_responses(401, 422))
async def list_approvals(
    principal: StaffDep,
    runtime: RuntimeDep,
    status: Annotated[Literal["pending", "decided", "all"], Query()] = "pending",
) -> ApprovalList:
    staff = require_staff(runtime.staff)
    store = staff.approvals.store
    rows = await asyncio.to_thread(store.listing, principal.tenant, status)
    return ApprovalList(approvals=await asyncio.to_thread(_with_previews, store, principal.tenant, rows))


@router.post(
    "/{approval_id}",
    summary="Supervisor: approve (executes the confirmed preview once, within your limit) or reject",
    responses=error_responses(401, 404, 409, 422),
)
async def decide(
    body: ApprovalDecisionIn,
    principal: StaffDep,
    runtime: RuntimeDep,
    approval_id: Annotated[str, Path(max_length=64)],
) -> ApprovalOut:
    staff = require_staff(runtime.staff)
    decided = await staff.approvals.decide(principal, approval_id, body.approve)
    return (await asyncio.to_thread(_with_previews, staff.approvals.store, principal.tenant, [decided]))[0]
