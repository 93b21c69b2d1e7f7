"""Approvals: a write over the caller's (customer's or agent's) limit is first previewed to and confirmed by that
caller; the confirmation (Gateway.decide) records a request here, bound to that preview. A supervisor of the same
tenant sees the same before → after diff and decides once (compare-and-set pending → approved|rejected, committed
with its audit row and the conversation's events); an approval then executes exactly the confirmed preview once
(the gateway's ledger), as the caller, within the supervisor's limit. The conversation gets `approval.status`
events (waiting → approved|rejected → executed|failed), which the customer sees live.

The decision's commit is the execution's outbox: an `approved` row without a `result` is an execution owed.
The deciding request runs it at once; when that request dies first (a crash between the commit and the write,
or before the result is recorded), any worker runs it later (`copilot.handoff.owed`). Running twice is safe:
the ledger keeps it to one effect and `record` keeps the first result and its one status event."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, insert, select, update

from copilot.errors import CopilotError, ErrorCode
from copilot.eventlog import EventLog, insert_event
from copilot.faults import crash_point
from copilot.gateway.approval import ApprovalDecision
from copilot.gateway.result import GatewayResult, Preview
from copilot.handoff.staff import StaffGateway
from copilot.principal import ROLES, Principal
from copilot.store.schema import approvals, previews
from copilot.telemetry import metrics
from copilot.telemetry.tracing import identified

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


def principal_from_label(label: str) -> Principal | None:
    """`role:user@tenant` (Principal.label) back to a Principal; None if it is not one."""
    role, _, rest = label.partition(":")
    user, _, tenant = rest.rpartition("@")
    if role not in ROLES or not user or not tenant:
        return None
    return Principal(tenant=tenant, role=role, user_id=user)


class ApprovalStore:
    """The `approvals` table; the gateway's ApprovalRouter (`request` inside the confirmation's transaction,
    `decision` inside the executing one)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def request(
        self, principal: Principal, tool: str, arguments: dict[str, Any], *, conversation_id: str | None,
        details: dict[str, Any], preview_id: str, conn: Connection, description: Sequence[str] = (),
    ) -> str:  # fmt: skip
        approval_id = "apr_" + secrets.token_urlsafe(12)
        row = {
            "approval_id": approval_id, "tenant": principal.tenant, "conversation_id": conversation_id,
            "requested_by": principal.label(), "tool": tool, "arguments": arguments,
            "amount": details.get("amount"), "limit": details.get("limit"), "status": "pending",
            "created_at": datetime.now(UTC), "preview_id": preview_id, "description": list(description),
        }  # fmt: skip
        conn.execute(insert(approvals).values(**row))
        if (
            conversation_id is not None
        ):  # committed with the confirmation: the caller's EventLog.notify wakes tails
            insert_event(conn, conversation_id, "approval.requested", _requested(approval_id, row))
            waiting = {
                "approval_id": approval_id,
                "preview_id": preview_id,
                "tool": tool,
                "status": "waiting",
            }
            insert_event(conn, conversation_id, "approval.status", waiting)
        metrics.count_approval("requested")
        return approval_id

    def decision(self, tenant: str, preview_id: str, conn: Connection) -> ApprovalDecision | None:
        row = conn.execute(
            select(approvals.c.approval_id, approvals.c.status, approvals.c.decided_by)
            .where(approvals.c.tenant == tenant, approvals.c.preview_id == preview_id)
        ).first()  # fmt: skip
        if row is None:
            return None
        by = principal_from_label(row.decided_by) if row.decided_by else None
        return ApprovalDecision(row.approval_id, row.status, by)

    def by_preview(self, tenant: str, preview_id: str) -> Approval | None:
        query = select(approvals).where(approvals.c.tenant == tenant, approvals.c.preview_id == preview_id)
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return Approval(**row._mapping) if row else None

    def preview_of(self, tenant: str, preview_id: str | None) -> dict[str, Any] | None:
        """The stored preview body the requester confirmed (summary, changes with before/after, amount)."""
        if preview_id is None:
            return None
        query = select(previews.c.preview).where(
            previews.c.tenant == tenant, previews.c.preview_id == preview_id
        )
        with self._engine.connect() as conn:
            body: dict[str, Any] | None = conn.execute(query).scalar_one_or_none()
        return body

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

    def decide(self, tenant: str, approval_id: str, approve: bool, by: str, *, conn: Connection) -> bool:
        """pending → approved|rejected inside the caller's transaction (which also writes the audit row and
        the events); False if it was already decided."""
        values = {
            "status": "approved" if approve else "rejected",
            "decided_by": by,
            "decided_at": datetime.now(UTC),
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
        decided = conn.execute(statement).rowcount == 1
        if decided:
            metrics.count_approval("approved" if approve else "rejected")
        return decided

    def begin(self) -> AbstractContextManager[Connection]:
        return self._engine.begin()

    def record(self, approval_id: str, result: dict[str, Any], conn: Connection) -> bool:
        """Store what ran, once: False if a result was already recorded (another run of it got there first)."""
        first = (approvals.c.approval_id == approval_id) & approvals.c.result.is_(None)
        return conn.execute(update(approvals).where(first).values(result=result)).rowcount == 1

    def owed(self, decided_before: datetime) -> list[Approval]:
        """Approved before `decided_before` with no result recorded: executions a dead request left owing."""
        query = select(approvals).where(
            approvals.c.status == "approved", approvals.c.result.is_(None),
            approvals.c.decided_at < decided_before,
        )  # fmt: skip
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(approvals.c.decided_at)).all()
        return [Approval(**row._mapping) for row in rows]


class ApprovalGateway(StaffGateway, Protocol):
    def audit_approval(
        self, conn: Connection, approver: Principal, preview: Preview, approve: bool, *, approval_id: str,
        conversation_id: str | None,
    ) -> None: ...  # fmt: skip

    def load_preview(self, principal: Principal, preview_id: str) -> Preview: ...


class ApprovalService:
    def __init__(self, store: ApprovalStore, gateway: ApprovalGateway, events: EventLog) -> None:
        self.store = store
        self._gateway = gateway
        self._events = events

    async def decide(self, principal: Principal, approval_id: str, approve: bool) -> Approval:
        """The supervisor's decision (committed with its audit row and events), then — approved — the one
        execution of the confirmed preview. The approving supervisor approving again a request whose
        execution never finished (a crash in between) runs it now; the ledger keeps it to one effect."""
        if principal.role not in APPROVERS:
            raise CopilotError(ErrorCode.FORBIDDEN, "Only a supervisor can decide approval requests.")
        approval = await asyncio.to_thread(self.store.get, principal.tenant, approval_id)
        if approval is None:
            raise CopilotError(
                ErrorCode.NOT_FOUND, f"No approval request {approval_id!r}; list GET /v1/approvals."
            )
        if approval.status == "pending":
            await asyncio.to_thread(self._settle, principal, approval, approve)
            crash_point("approval.decided")
        elif not (approve and approval.status == "approved" and approval.result is None
                  and approval.decided_by == principal.label()):  # fmt: skip
            raise _decided(approval)  # (the approver repeating an unfinished approval runs it, once)
        if approve:
            await asyncio.to_thread(self._run, approval)
        if approval.conversation_id is not None:
            self._events.notify(approval.conversation_id)
        decided = await asyncio.to_thread(self.store.get, principal.tenant, approval_id)
        assert decided is not None
        return decided

    def _requester(self, approval: Approval) -> tuple[Principal, Preview]:
        requester = principal_from_label(approval.requested_by)
        if requester is None or approval.preview_id is None:
            raise CopilotError(
                ErrorCode.CONFLICT, f"Approval {approval.approval_id} has no confirmed preview."
            )
        return requester, self._gateway.load_preview(requester, approval.preview_id)

    def _settle(self, principal: Principal, approval: Approval, approve: bool) -> None:
        """pending → approved|rejected + the supervisor's audit row + the conversation's events, one commit."""
        _, preview = self._requester(approval)
        status = "approved" if approve else "rejected"
        with self.store.begin() as conn:
            if not self.store.decide(
                principal.tenant, approval.approval_id, approve, principal.label(), conn=conn
            ):
                raise _decided(approval)
            self._gateway.audit_approval(
                conn, principal, preview, approve, approval_id=approval.approval_id,
                conversation_id=approval.conversation_id,
            )  # fmt: skip
            if approval.conversation_id is not None:
                decided = {
                    "approval_id": approval.approval_id,
                    "approved": approve,
                    "decided_by": principal.user_id,
                }
                insert_event(conn, approval.conversation_id, "approval.decided", decided)
                insert_event(conn, approval.conversation_id, "approval.status",
                             _status(approval, preview, status, by=principal.user_id))  # fmt: skip
            if not approve:
                self.store.record(approval.approval_id, {"outcome": "rejected"}, conn)

    def _run(self, approval: Approval) -> None:
        """Execute the confirmed preview once, as its requester; record what ran with its status event (only
        the first run of an approval records: a later one found the ledger's result)."""
        requester, preview = self._requester(approval)
        executed = self._gateway.execute(requester, preview.preview_id)
        crash_point("approval.executed")
        outcome = _body(executed)
        status = "executed" if executed.outcome == "executed" else "failed"
        with self.store.begin() as conn:
            if (
                self.store.record(approval.approval_id, outcome, conn)
                and approval.conversation_id is not None
            ):
                event = _status(approval, preview, status, message=executed.message)
                insert_event(conn, approval.conversation_id, "approval.status", event)

    async def execute_owed(self, decided_before: datetime) -> int:
        """Run every execution owed since before `decided_before` (see the module doc); how many ran. One
        that cannot run (its preview is gone) is recorded as not done, with the reason, so it stops owing."""
        owed = await asyncio.to_thread(self.store.owed, decided_before)
        for approval in owed:
            with (
                identified()
            ):  # a trace id for the audit rows of this recovery (no request or turn around it)
                try:
                    await asyncio.to_thread(self._run, approval)
                except CopilotError as exc:
                    await asyncio.to_thread(self._not_done, approval, exc)
            if approval.conversation_id is not None:
                self._events.notify(approval.conversation_id)
        return len(owed)

    def _not_done(self, approval: Approval, error: CopilotError) -> None:
        body = {"outcome": "error", "code": error.code.value, "message": error.message}
        with self.store.begin() as conn:
            if self.store.record(approval.approval_id, body, conn) and approval.conversation_id is not None:
                event = {"approval_id": approval.approval_id, "preview_id": approval.preview_id,
                         "tool": approval.tool, "status": "failed", "message": error.message}  # fmt: skip
                insert_event(conn, approval.conversation_id, "approval.status", event)


def _requested(approval_id: str, row: dict[str, Any]) -> dict[str, Any]:
    """approval.requested (staff streams only): what waits in the supervisors' inbox."""
    keys = ("tool", "arguments", "amount", "limit", "requested_by", "preview_id", "description")
    return {"approval_id": approval_id, **{k: row[k] for k in keys}}


def _status(
    approval: Approval, preview: Preview, status: str, *, by: str | None = None, message: str | None = None
) -> dict[str, Any]:
    """approval.status (everyone, the customer too): where the confirmed change stands."""
    data: dict[str, Any] = {"approval_id": approval.approval_id, "preview_id": preview.preview_id,
                            "tool": preview.tool, "status": status}  # fmt: skip
    if by is not None:
        data["decided_by"] = by
    if message:
        data["message"] = message
    return data


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
