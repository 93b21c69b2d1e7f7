"""Approvals: writes over an agent's limit wait for a supervisor of the same tenant. The decision is a
compare-and-set (pending → approved|rejected, decided_by), so it happens once; an approval runs through the
same gateway with the supervisor's principal (preview → the supervisor's confirmation, committed in the same
transaction as the approval's decision → execute once) and records who approved and what ran."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from copilot.errors import CopilotError, ErrorCode
from copilot.eventlog import EventLog
from copilot.gateway.result import GatewayResult
from copilot.handoff.staff import StaffGateway
from copilot.principal import Principal
from copilot.store.schema import approvals
from copilot.telemetry import metrics

APPROVERS = frozenset({"supervisor"})


@dataclass(frozen=True, slots=True)
class Approval:
    approval_id: str
    tenant: str
    conversation_id: str | None
    requested_by: str
    tool: str
    arguments: dict[str, Any]
    amount: float | None
    limit: float | None
    status: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    preview_id: str | None
    result: dict[str, Any] | None
    description: list[str] | None = None
    """The write as plain sentences, rendered when it was requested (None on rows from before 0005)."""


class ApprovalStore:
    """The `approvals` table; `request` is the gateway's ApprovalRouter (sync: it runs inside a call)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def request(
        self, principal: Principal, tool: str, arguments: dict[str, Any], *, conversation_id: str | None,
        details: dict[str, Any], description: Sequence[str] = (),
    ) -> str:  # fmt: skip
        approval_id = "apr_" + secrets.token_urlsafe(12)
        row = {
            "approval_id": approval_id, "tenant": principal.tenant, "conversation_id": conversation_id,
            "requested_by": principal.label(), "tool": tool, "arguments": arguments,
            "amount": details.get("amount"), "limit": details.get("limit"), "status": "pending",
            "created_at": datetime.now(UTC), "description": list(description),
        }  # fmt: skip
        with self._engine.begin() as conn:
            conn.execute(insert(approvals).values(**row))
        metrics.count_approval("requested")
        return approval_id

    def get(self, tenant: str, approval_id: str) -> Approval | None:
        query = select(approvals).where(approvals.c.tenant == tenant, approvals.c.approval_id == approval_id)
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return Approval(**row._mapping) if row else None

    def listing(self, tenant: str, status: str) -> list[Approval]:
        query = select(approvals).where(approvals.c.tenant == tenant)
        if status == "pending":
            query = query.where(approvals.c.status == "pending")
        elif status == "decided":
            query = query.where(approvals.c.status != "pending")
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(approvals.c.created_at)).all()
        return [Approval(**row._mapping) for row in rows]

    def decide(
        self, tenant: str, approval_id: str, approve: bool, by: str, *, conn: Connection | None = None,
        preview_id: str | None = None,
    ) -> bool:  # fmt: skip
        """pending → approved|rejected (with the preview that will run); False if it was already decided.
        On `conn`, inside the caller's transaction (which also records the gateway decision)."""
        values = {
            "status": "approved" if approve else "rejected",
            "decided_by": by,
            "decided_at": datetime.now(UTC),
            "preview_id": preview_id,
        }
        statement = (
            update(approvals)
            .where(
                approvals.c.tenant == tenant,
                approvals.c.approval_id == approval_id,
                approvals.c.status == "pending",
            )
            .values(**values)
        )
        if conn is not None:
            decided = conn.execute(statement).rowcount == 1
        else:
            with self._engine.begin() as own:
                decided = own.execute(statement).rowcount == 1
        if decided:
            metrics.count_approval("approved" if approve else "rejected")
        return decided

    def begin(self) -> AbstractContextManager[Connection]:
        return self._engine.begin()

    def record(self, approval_id: str, preview_id: str | None, result: dict[str, Any]) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(approvals)
                .where(approvals.c.approval_id == approval_id)
                .values(preview_id=preview_id, result=result)
            )


class ApprovalService:
    def __init__(self, store: ApprovalStore, gateway: StaffGateway, events: EventLog) -> None:
        self.store = store
        self._gateway = gateway
        self._events = events

    async def announce(self, approval_id: str, tenant: str) -> None:
        """approval.requested on the conversation's stream (staff streams only)."""
        approval = await asyncio.to_thread(self.store.get, tenant, approval_id)
        if approval is not None and approval.conversation_id is not None:
            data = {"approval_id": approval_id, "tool": approval.tool, "arguments": approval.arguments,
                    "amount": approval.amount, "limit": approval.limit, "requested_by": approval.requested_by,
                    "description": approval.description or []}  # fmt: skip
            await self._events.append(approval.conversation_id, "approval.requested", data)

    async def decide(self, principal: Principal, approval_id: str, approve: bool) -> Approval:
        """The supervisor's decision; an approval executes through the gateway as the supervisor. The
        approval's decision and the gateway's confirmation of the supervisor's preview commit together."""
        if principal.role not in APPROVERS:
            raise CopilotError(ErrorCode.FORBIDDEN, "Only a supervisor can decide approval requests.")
        approval = await asyncio.to_thread(self.store.get, principal.tenant, approval_id)
        if approval is None:
            raise CopilotError(
                ErrorCode.NOT_FOUND, f"No approval request {approval_id!r}; list GET /v1/approvals."
            )
        if approval.status != "pending":
            raise _decided(approval)
        preview_id, outcome = await asyncio.to_thread(self._settle, principal, approval, approve)
        await asyncio.to_thread(self.store.record, approval_id, preview_id, outcome)
        decided = await asyncio.to_thread(self.store.get, principal.tenant, approval_id)
        assert decided is not None
        if decided.conversation_id is not None:
            data = {
                "approval_id": approval_id,
                "approved": approve,
                "decided_by": principal.user_id,
                **outcome,
            }
            await self._events.append(decided.conversation_id, "approval.decided", data)
        return decided

    def _settle(
        self, principal: Principal, approval: Approval, approve: bool
    ) -> tuple[str | None, dict[str, Any]]:
        """Reject; or preview as the supervisor, record both decisions in one transaction, execute once."""
        tenant, by = principal.tenant, principal.label()
        if not approve:
            if not self.store.decide(tenant, approval.approval_id, False, by):
                raise _decided(approval)
            return None, {"outcome": "rejected"}
        previewed = self._gateway.call(
            principal, approval.tool, approval.arguments, conversation_id=approval.conversation_id
        )
        if previewed.outcome != "preview" or previewed.preview is None:
            if not self.store.decide(tenant, approval.approval_id, True, by):
                raise _decided(approval)
            return None, {"outcome": previewed.outcome, "code": previewed.code, "message": previewed.message}
        preview_id = previewed.preview.preview_id
        with self.store.begin() as conn:
            if not self.store.decide(
                tenant, approval.approval_id, True, by, conn=conn, preview_id=preview_id
            ):
                raise _decided(approval)
            self._gateway.decide(principal, preview_id, True, conn=conn)
        return preview_id, _body(self._gateway.execute(principal, preview_id))


def _decided(approval: Approval) -> CopilotError:
    return CopilotError(
        ErrorCode.CONFLICT,
        f"Approval {approval.approval_id} was already decided; reload the approvals inbox.",
    )


def _body(executed: GatewayResult) -> dict[str, Any]:
    body: dict[str, Any] = {"outcome": executed.outcome}
    if executed.outcome == "executed":
        body["result"] = executed.result
    else:
        body |= {"code": executed.code, "message": executed.message}
    return body
