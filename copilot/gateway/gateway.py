"""The tool gateway: every tool call, whoever emits it, passes permission → validation → ownership →
(read: execute in a rolled-back transaction | write: dry-run → limits → preview) → audit.
A write runs for real only through `execute` after the same principal approved its preview with `decide`;
a write over the caller's limit also needs a supervisor's approval of exactly that confirmed preview.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from copilot.errors import CopilotError, ErrorCode
from copilot.gateway.approval import ApprovalRouter, approval_needed, approver_of
from copilot.gateway.audit import AuditEntry, AuditLog, AuditOutcome
from copilot.gateway.authorization import check_limit, check_ownership, check_permission
from copilot.gateway.authorizer import Authorizer, pinned
from copilot.gateway.confirmation import Confirmations, Pending
from copilot.gateway.describe import describe
from copilot.gateway.result import GatewayResult, Outcome, Preview
from copilot.gateway.sandbox import run_handler
from copilot.gateway.spec import Tool
from copilot.gateway.steps import Stop, Trace, auditable, guarded, handled, stale, transient
from copilot.gateway.validation import Validator
from copilot.packs import Pack
from copilot.principal import Principal
from copilot.store.documents import DocumentStore
from copilot.telemetry.tracing import span

_AUDIT_OUTCOME: dict[Outcome, AuditOutcome] = {
    "executed": "execute", "preview": "preview", "denied": "deny", "invalid": "invalid", "error": "error",
}  # fmt: skip
_log = logging.getLogger(__name__)
_RETRY_DELAYS = (0.05, 0.25)
"""Seconds before each retry of an execute transaction that hit a lock timeout or a deadlock."""


class Gateway:
    def __init__(
        self, engine: Engine, pack: Pack, authorizer: Authorizer, *,
        confirmation_ttl: timedelta = timedelta(minutes=10), approvals: ApprovalRouter | None = None,
        approval_ttl: timedelta = timedelta(hours=24),
    ) -> None:  # fmt: skip
        self.engine = engine
        self.pack = pack
        self.authorizer = authorizer
        self._tools: dict[str, Tool] = {t.spec.name: t for t in pack.tools}
        self._validator = Validator()
        self.audit = AuditLog(engine)
        self._confirmations = Confirmations(engine, confirmation_ttl)
        self.approvals = approvals
        self._approval_ttl = approval_ttl

    # -- audit + result ----------------------------------------------------------------------------------
    def _entry(
        self, trace: Trace, outcome: Outcome, *, error: CopilotError | None = None, reason: str | None = None,
        audit_as: AuditOutcome | None = None,
    ) -> AuditEntry:  # fmt: skip
        return AuditEntry(
            decision_id=trace.decision_id, principal=trace.principal, tool=trace.tool,
            arguments=trace.arguments, outcome=audit_as or _AUDIT_OUTCOME[outcome],
            policy_version=self.authorizer.version, latency_ms=(time.perf_counter() - trace.started) * 1000,
            code=error.code.value if error else None, reason=reason or (error.message if error else None),
            conversation_id=trace.conversation_id,
        )  # fmt: skip

    @staticmethod
    def _result(
        trace: Trace, outcome: Outcome, *, result: Any = None, preview: Preview | None = None,
        error: CopilotError | None = None,
    ) -> GatewayResult:  # fmt: skip
        valid_args = trace.arguments if outcome != "invalid" else {}
        return GatewayResult(
            outcome=outcome, tool=trace.tool, decision_id=trace.decision_id, arguments=valid_args,
            result=result, preview=preview, code=error.code.value if error else None,
            message=error.message if error else None, details=error.details if error else {},
        )  # fmt: skip

    def _finish(
        self, trace: Trace, outcome: Outcome, *, result: Any = None, preview: Preview | None = None,
        error: CopilotError | None = None, reason: str | None = None, audit_as: AuditOutcome | None = None,
    ) -> GatewayResult:  # fmt: skip
        """Audit in its own transaction (on the call's connection when it has one), then the result."""
        self.audit.record(
            self._entry(trace, outcome, error=error, reason=reason, audit_as=audit_as), trace.conn
        )
        return self._result(trace, outcome, result=result, preview=preview, error=error)

    def _stop(self, trace: Trace, stop: Stop) -> GatewayResult:
        return self._finish(trace, stop.outcome, error=stop.error, reason=stop.reason)

    # -- call ----------------------------------------------------------------------------------------------
    def call(
        self, principal: Principal, tool: str, arguments: object, *, conversation_id: str | None = None
    ) -> GatewayResult:
        """One tool call as emitted by a model: executed (reads), preview (writes), denied, invalid or error."""
        # One connection for the whole call: the live policy stamp read, the rolled-back handler transaction
        # and the audit row (each its own transaction) — one pool checkout instead of three. The whole
        # decision runs on the policy version pinned here.
        with (
            self.engine.connect() as conn,
            pinned(self.authorizer, conn, principal.tenant),
            span(f"gateway call {tool}"),
        ):
            trace = Trace(principal, tool, conversation_id, auditable(arguments), conn=conn)
            return self._call(trace, arguments)

    def _call(self, trace: Trace, arguments: object) -> GatewayResult:
        principal, tool = trace.principal, trace.tool
        try:
            handler = self._tools.get(tool)
            if handler is None:
                names = sorted(self._tools)
                raise Stop(
                    "invalid",
                    CopilotError(ErrorCode.UNKNOWN_TOOL, f"Unknown tool {tool!r}; use one of {names}."),
                )
            guarded(lambda: check_permission(self.authorizer, principal, tool), stage="permission")
            args = guarded(lambda: self._validator.validate(handler.spec, arguments), stage="validate")
            trace.arguments = args
            if handler.spec.side_effect == "write":
                return self._preview(trace, handler, args)
            return self._read(trace, handler, args)
        except Stop as stop:
            return self._stop(trace, stop)
        except Exception as exc:  # infrastructure failure (e.g. the database): nothing was committed
            return self._internal(trace, exc)

    def _internal(self, trace: Trace, exc: Exception) -> GatewayResult:
        if not transient(exc):
            error = CopilotError(
                ErrorCode.INTERNAL, "The request could not be completed and nothing was changed; retry."
            )
            return self._finish(trace, "error", error=error, reason=f"internal: {type(exc).__name__}: {exc}")
        error = CopilotError(
            ErrorCode.INTERNAL, "The database was busy, so nothing was changed; retry shortly."
        )
        try:
            return self._finish(trace, "error", error=error, reason=f"busy: {exc}")
        except DBAPIError as audit_exc:  # still busy: the answer matters more than this row of no effect
            if not transient(audit_exc):
                raise
            _log.warning("audit row of busy decision %s not written: %s", trace.decision_id, audit_exc)
            return self._result(trace, "error", error=error)

    def _authorize(
        self, principal: Principal, tool: Tool, args: dict[str, Any], store: DocumentStore
    ) -> None:
        guarded(lambda: check_permission(self.authorizer, principal, tool.spec.name), stage="permission")
        guarded(
            lambda: check_ownership(self.authorizer, principal, tool.spec, args, store), stage="ownership"
        )

    def _read(self, trace: Trace, tool: Tool, args: dict[str, Any]) -> GatewayResult:
        with trace.sandbox(self.engine) as conn:
            store = DocumentStore(conn, trace.principal.tenant)
            self._authorize(trace.principal, tool, args, store)
            run = handled(lambda: run_handler(tool, trace.principal, store, args, dry_run=True))
        return self._finish(trace, "executed", result=run.result)

    def _preview(self, trace: Trace, tool: Tool, args: dict[str, Any]) -> GatewayResult:
        principal = trace.principal
        with trace.sandbox(self.engine) as conn:
            store = DocumentStore(conn, principal.tenant)
            self._authorize(principal, tool, args, store)
            run = handled(lambda: run_handler(tool, principal, store, args, dry_run=True))
        sentences = describe(tool.spec, args, run)
        approval = approval_needed(self.authorizer, self.approvals, principal, tool.spec.name, run.amount)
        preview = self._confirmations.create(
            principal, tool.spec.name, args, run, conversation_id=trace.conversation_id, sentences=sentences,
            approval=approval,
        )  # fmt: skip
        return self._finish(trace, "preview", preview=preview)

    # -- confirmation ----------------------------------------------------------------------------------------
    def decide(
        self, principal: Principal, preview_id: str, approve: bool, *, conn: Connection | None = None
    ) -> Preview:
        """The human's decision on a preview. The decision and its audit row commit together: in their own
        transaction, or — given `conn` — inside the caller's open transaction, which the caller commits with
        its own rows (a transactional outbox). A refusal raises CopilotError CONFIRMATION_*; its audit row is
        committed apart from the caller's transaction, so it survives the caller's rollback."""
        trace = Trace(principal, "?", None)
        with pinned(self.authorizer, conn, principal.tenant):  # the audit rows name the tenant's version
            return self._decide_pinned(trace, preview_id, approve, conn)

    def _decide_pinned(
        self, trace: Trace, preview_id: str, approve: bool, conn: Connection | None
    ) -> Preview:
        try:
            if conn is not None:
                return self._decide(trace, preview_id, approve, conn)
            with self.engine.begin() as own:
                return self._decide(trace, preview_id, approve, own)
        except CopilotError as exc:
            entry = self._entry(trace, "denied", error=exc)
            if conn is None:
                self.audit.record(entry)
            else:
                self.audit.record_detached(entry, conn)
            raise

    def _decide(self, trace: Trace, preview_id: str, approve: bool, conn: Connection) -> Preview:
        pending = self._confirmations.decide(trace.principal, preview_id, approve, conn)
        preview = pending.preview
        trace.tool, trace.arguments = preview.tool, preview.arguments
        trace.conversation_id = pending.conversation_id
        reason = f"preview {preview_id}"
        if approve and preview.approval is not None and self.approvals is not None:
            approval_id = self.approvals.request(
                trace.principal, preview.tool, preview.arguments, conversation_id=pending.conversation_id,
                details=preview.approval, preview_id=preview_id, conn=conn, description=preview.sentences,
            )  # fmt: skip
            self._confirmations.extend(conn, preview_id, datetime.now(UTC) + self._approval_ttl)
            reason += f"; approval {approval_id} requested"
        audit_as: AuditOutcome = "confirm" if approve else "reject"
        self.audit.write(conn, self._entry(trace, "executed", audit_as=audit_as, reason=reason))
        return preview

    def audit_approval(
        self, conn: Connection, approver: Principal, preview: Preview, approve: bool, *, approval_id: str,
        conversation_id: str | None,
    ) -> None:  # fmt: skip
        """The supervisor's decision on an approval request, in the caller's transaction (with the decision)."""
        with pinned(self.authorizer, conn, approver.tenant):
            trace = Trace(approver, preview.tool, conversation_id, dict(preview.arguments))
            reason = f"approval {approval_id} of preview {preview.preview_id}"
            audit_as: AuditOutcome = "confirm" if approve else "reject"
            self.audit.write(conn, self._entry(trace, "executed", audit_as=audit_as, reason=reason))

    def load_preview(self, principal: Principal, preview_id: str) -> Preview:
        """A stored preview of `principal` (CONFIRMATION_INVALID/MISMATCH otherwise)."""
        return self._confirmations.load(principal, preview_id).preview

    # -- execution -------------------------------------------------------------------------------------------
    def execute(self, principal: Principal, preview_id: str) -> GatewayResult:
        """Run an approved preview exactly once; a repeat returns the stored result without re-running.
        Order: the approval (undecided → confirmation_required, rejected → confirmation_invalid), then the
        ledger (a replay works even after expiry), then used/expired, the claim and the run."""
        with pinned(self.authorizer, None, principal.tenant), span("gateway execute"):
            trace = Trace(principal, "?", None)
            try:
                pending = guarded(lambda: self._confirmations.load(principal, preview_id))
                trace.tool, trace.arguments = pending.preview.tool, pending.preview.arguments
                trace.conversation_id = pending.conversation_id
                guarded(lambda: _check_approved(pending))
                return self._execute_retrying(trace, pending)
            except Stop as stop:
                return self._stop(trace, stop)
            except Exception as exc:  # the database failed: nothing of the transaction was committed
                return self._internal(trace, exc)

    def _execute_retrying(self, trace: Trace, pending: Pending) -> GatewayResult:
        """A lock timeout (SQLite) or deadlock (Postgres) rolled the whole transaction back: run it again."""
        for delay in _RETRY_DELAYS:
            try:
                return self._execute(trace, pending)
            except DBAPIError as exc:
                if not transient(exc):
                    raise
            time.sleep(delay)
        return self._execute(trace, pending)

    def _execute(self, trace: Trace, pending: Pending) -> GatewayResult:
        """One transaction: ledger replay, or claim + write + ledger row + `execute` audit row."""
        tenant, key = trace.principal.tenant, pending.idempotency_key
        with self.engine.begin() as conn:
            found, stored = self._confirmations.stored_result(conn, tenant, key)
            if not found:
                guarded(lambda: _check_unused(pending))
                approver = approver_of(
                    self.authorizer, self.approvals, trace.principal, pending.preview, conn
                )
                if self._confirmations.claim(conn, pending.preview.preview_id):
                    result = self._run_once(trace, pending, conn, approver)
                    self.audit.write(conn, self._entry(trace, "executed"))
                    return self._result(trace, "executed", result=result)
                # a concurrent execute won the claim: its committed result is the answer
                found, stored = self._confirmations.stored_result(conn, tenant, key)
                if not found:
                    raise Stop("denied", _used())
        return self._finish(trace, "executed", result=stored, audit_as="replay", reason=_REPLAYED)

    def _run_once(self, trace: Trace, pending: Pending, conn: Connection, approver: Principal | None) -> Any:
        principal, preview = trace.principal, pending.preview
        tool = self._tools[preview.tool]
        store = DocumentStore(conn, principal.tenant)
        self._authorize(principal, tool, preview.arguments, store)
        run = handled(
            lambda: run_handler(tool, principal, store, dict(preview.arguments), dry_run=False), stage="write"
        )
        if store.conflicted:  # the handler swallowed a DocumentConflict: its writes are incomplete
            raise Stop("denied", stale(), "write conflict (swallowed by the handler)")
        if run.preview_hash != preview.preview_hash:
            raise Stop("denied", stale())
        guarded(lambda: check_limit(self.authorizer, approver or principal, tool.spec.name, run.amount))
        self._confirmations.record(conn, pending, principal.tenant, run.result)
        return run.result


_REPLAYED = "replayed from the executions ledger"


def _used() -> CopilotError:
    return CopilotError(ErrorCode.CONFIRMATION_USED, "This preview was already used.")


def _check_approved(pending: Pending) -> None:
    if pending.approved is None:
        raise CopilotError(ErrorCode.CONFIRMATION_REQUIRED, "The customer has not confirmed this change yet.")
    if not pending.approved:
        raise CopilotError(
            ErrorCode.CONFIRMATION_INVALID, "The customer rejected this change; do not retry it."
        )


def _check_unused(pending: Pending) -> None:
    if pending.used:
        raise _used()
    if pending.expired:
        raise CopilotError(ErrorCode.CONFIRMATION_EXPIRED, "This preview expired; ask for the change again.")
