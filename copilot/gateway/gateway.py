"""The tool gateway: every tool call, whoever emits it, passes permission → validation → ownership →
(read: execute in a rolled-back transaction | write: dry-run → limits → preview) → audit.
A write runs for real only through `execute` after the same principal approved its preview with `decide`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from copilot.errors import CopilotError, ErrorCode
from copilot.gateway.approval import ApprovalRouter
from copilot.gateway.audit import AuditEntry, AuditLog, AuditOutcome
from copilot.gateway.authorization import check_limit, check_ownership, check_permission
from copilot.gateway.authorizer import Authorizer, pinned
from copilot.gateway.confirmation import Confirmations, Pending
from copilot.gateway.result import GatewayResult, Outcome, Preview
from copilot.gateway.sandbox import Run, rolled_back, rolled_back_on, run_handler, sha256_json
from copilot.gateway.spec import Tool
from copilot.gateway.validation import Validator
from copilot.packs import Pack
from copilot.principal import Principal
from copilot.store.documents import DocumentStore

T = TypeVar("T")
_GENERIC_CRASH = (
    "The tool failed unexpectedly and nothing was changed. Try again later or hand off to a human."
)
_AUDIT_OUTCOME: dict[Outcome, AuditOutcome] = {
    "executed": "execute", "preview": "preview", "denied": "deny", "invalid": "invalid", "error": "error",
}  # fmt: skip


class _Stop(Exception):
    """Ends a call early with an outcome (raised inside a transaction so it rolls back)."""

    def __init__(self, outcome: Outcome, error: CopilotError, reason: str | None = None) -> None:
        super().__init__(error.message)
        self.outcome: Outcome = outcome
        self.error = error
        self.reason = reason or error.message


def _guarded(step: Callable[[], T], outcome_on_error: Outcome = "denied") -> T:
    """Fail closed: a CopilotError keeps its code; any other exception becomes a denial."""
    try:
        return step()
    except CopilotError as exc:
        raise _Stop("invalid" if exc.code == ErrorCode.INVALID_ARGUMENTS else outcome_on_error, exc) from exc
    except Exception as exc:
        error = CopilotError(
            ErrorCode.DENIED,
            "The call could not be authorized, so it was refused. Try again or ask for a human.",
        )
        raise _Stop("denied", error, f"fail-closed: {type(exc).__name__}: {exc}") from exc


def _handled(step: Callable[[], Run]) -> Run:
    """Handler failures: business errors keep their code and message; crashes become a generic tool_error."""
    try:
        return step()
    except CopilotError as exc:
        raise _Stop("error", exc) from exc
    except Exception as exc:
        error = CopilotError(ErrorCode.TOOL_ERROR, _GENERIC_CRASH)
        raise _Stop("error", error, f"handler crashed: {type(exc).__name__}: {exc}") from exc


def _auditable(arguments: object) -> dict[str, Any]:
    if isinstance(arguments, dict):
        try:
            plain: dict[str, Any] = json.loads(json.dumps(arguments, default=str))
            return plain
        except (TypeError, ValueError):
            pass
    return {"_unparsed": repr(arguments)[:500]}


@dataclass
class _Trace:
    principal: Principal
    tool: str
    conversation_id: str | None
    arguments: dict[str, Any] = field(default_factory=dict)
    decision_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started: float = field(default_factory=time.perf_counter)
    conn: Connection | None = None
    """The call's own connection (stamp read, rolled-back handler transaction, audit row); None: fresh ones."""
    joined: bool = False
    """`conn` is in the caller's open transaction: the audit row joins it."""

    def sandbox(self, engine: Engine) -> AbstractContextManager[Connection]:
        return rolled_back_on(self.conn) if self.conn is not None else rolled_back(engine)


class Gateway:
    def __init__(
        self, engine: Engine, pack: Pack, authorizer: Authorizer, *,
        confirmation_ttl: timedelta = timedelta(minutes=10), approvals: ApprovalRouter | None = None,
    ) -> None:  # fmt: skip
        self.engine = engine
        self.pack = pack
        self.authorizer = authorizer
        self._tools: dict[str, Tool] = {t.spec.name: t for t in pack.tools}
        self._validator = Validator()
        self._audit = AuditLog(engine)
        self._confirmations = Confirmations(engine, confirmation_ttl)
        self.approvals = approvals

    # -- audit + result ----------------------------------------------------------------------------------
    def _finish(
        self, trace: _Trace, outcome: Outcome, *, result: Any = None, preview: Preview | None = None,
        error: CopilotError | None = None, reason: str | None = None, audit_as: AuditOutcome | None = None,
    ) -> GatewayResult:  # fmt: skip
        code = error.code.value if error else None
        message = error.message if error else None
        self._audit.record(
            AuditEntry(
                decision_id=trace.decision_id, principal=trace.principal, tool=trace.tool,
                arguments=trace.arguments, outcome=audit_as or _AUDIT_OUTCOME[outcome],
                policy_version=self.authorizer.version,
                latency_ms=(time.perf_counter() - trace.started) * 1000, code=code,
                reason=reason or message, conversation_id=trace.conversation_id,
            ),
            trace.conn, join=trace.joined,
        )  # fmt: skip
        valid_args = trace.arguments if outcome != "invalid" else {}
        return GatewayResult(
            outcome=outcome, tool=trace.tool, decision_id=trace.decision_id, arguments=valid_args,
            result=result, preview=preview, code=code, message=message, details=error.details if error else {},
        )  # fmt: skip

    def _stop(self, trace: _Trace, stop: _Stop) -> GatewayResult:
        return self._finish(trace, stop.outcome, error=stop.error, reason=stop.reason)

    # -- call ----------------------------------------------------------------------------------------------
    def call(
        self, principal: Principal, tool: str, arguments: object, *, call_id: str,
        conversation_id: str | None = None,
    ) -> GatewayResult:  # fmt: skip
        """One tool call as emitted by a model: executed (reads), preview (writes), denied, invalid or error."""
        # One connection for the whole call: the live policy stamp read, the rolled-back handler transaction
        # and the audit row (each its own transaction) — one pool checkout instead of three. The whole
        # decision runs on the policy version pinned here.
        with self.engine.connect() as conn, pinned(self.authorizer, conn):
            trace = _Trace(principal, tool, conversation_id, _auditable(arguments), conn=conn)
            return self._call(trace, arguments, call_id=call_id)

    def _call(self, trace: _Trace, arguments: object, *, call_id: str) -> GatewayResult:
        principal, tool = trace.principal, trace.tool
        try:
            handler = self._tools.get(tool)
            if handler is None:
                names = sorted(self._tools)
                raise _Stop(
                    "invalid",
                    CopilotError(ErrorCode.UNKNOWN_TOOL, f"Unknown tool {tool!r}; use one of {names}."),
                )
            _guarded(lambda: check_permission(self.authorizer, principal, tool))
            args = _guarded(lambda: self._validator.validate(handler.spec, arguments))
            trace.arguments = args
            if handler.spec.side_effect == "write":
                return self._preview(trace, handler, args, call_id)
            return self._read(trace, handler, args)
        except _Stop as stop:
            return self._stop(trace, stop)
        except Exception as exc:  # infrastructure failure (e.g. the database): nothing was committed
            return self._internal(trace, exc)

    def _internal(self, trace: _Trace, exc: Exception) -> GatewayResult:
        error = CopilotError(
            ErrorCode.INTERNAL, "The request could not be completed and nothing was changed; retry."
        )
        return self._finish(trace, "error", error=error, reason=f"internal: {type(exc).__name__}: {exc}")

    def _authorize(
        self, principal: Principal, tool: Tool, args: dict[str, Any], store: DocumentStore
    ) -> None:
        _guarded(lambda: check_permission(self.authorizer, principal, tool.spec.name))
        _guarded(lambda: check_ownership(self.authorizer, principal, tool.spec, args, store))

    def _read(self, trace: _Trace, tool: Tool, args: dict[str, Any]) -> GatewayResult:
        with trace.sandbox(self.engine) as conn:
            store = DocumentStore(conn, trace.principal.tenant)
            self._authorize(trace.principal, tool, args, store)
            run = _handled(lambda: run_handler(tool, trace.principal, store, args, dry_run=True))
        return self._finish(trace, "executed", result=run.result)

    def _preview(self, trace: _Trace, tool: Tool, args: dict[str, Any], call_id: str) -> GatewayResult:
        principal = trace.principal
        with trace.sandbox(self.engine) as conn:
            store = DocumentStore(conn, principal.tenant)
            self._authorize(principal, tool, args, store)
            run = _handled(lambda: run_handler(tool, principal, store, args, dry_run=True))
        self._check_limit(trace, tool.spec.name, args, run.amount)
        key = sha256_json(
            [principal.label(), trace.conversation_id, call_id, tool.spec.name, sha256_json(args)]
        )
        preview = self._confirmations.create(
            principal, tool.spec.name, args, run, idempotency_key=key, conversation_id=trace.conversation_id
        )
        return self._finish(trace, "preview", preview=preview)

    def _check_limit(self, trace: _Trace, tool: str, args: dict[str, Any], amount: float | None) -> None:
        """Over the limit is a denial; an agent's or customer's also becomes a supervisor approval request."""
        try:
            _guarded(lambda: check_limit(self.authorizer, trace.principal, tool, amount))
        except _Stop as stop:
            if (
                self.approvals is None
                or trace.principal.role not in ("agent", "customer")
                or stop.error.code != ErrorCode.LIMIT_EXCEEDED
            ):
                raise
            details = stop.error.details
            approval_id = self.approvals.request(
                trace.principal, tool, args, conversation_id=trace.conversation_id, details=details
            )
            message = f"{stop.error.message} Approval request {approval_id} was sent to a supervisor."
            error = CopilotError(
                ErrorCode.LIMIT_EXCEEDED, message, details={**details, "approval_id": approval_id}
            )
            raise _Stop("denied", error) from stop

    # -- confirmation ----------------------------------------------------------------------------------------
    def decide(
        self, principal: Principal, preview_id: str, approve: bool, *, conn: Connection | None = None
    ) -> Preview:
        """The human's decision on a preview (from the API only). Raises CopilotError CONFIRMATION_*. On
        `conn`, the decision and its audit row join the caller's open transaction (committed with it); a
        refusal's audit row is written on its own so it survives the caller's rollback."""
        trace = _Trace(principal, "?", None)
        try:
            pending = self._confirmations.decide(principal, preview_id, approve, conn)
        except CopilotError as exc:
            self._finish(trace, "denied", error=exc)
            raise
        trace.tool, trace.arguments = pending.preview.tool, pending.preview.arguments
        trace.conversation_id, trace.conn, trace.joined = pending.conversation_id, conn, conn is not None
        self._finish(
            trace, "executed", audit_as="confirm" if approve else "reject", reason=f"preview {preview_id}"
        )
        return pending.preview

    def execute(self, principal: Principal, preview_id: str) -> GatewayResult:
        """Run an approved preview exactly once; a repeat returns the stored result without re-running."""
        with pinned(self.authorizer):
            return self._execute_preview(principal, preview_id)

    def _execute_preview(self, principal: Principal, preview_id: str) -> GatewayResult:
        trace = _Trace(principal, "?", None)
        try:
            pending = _guarded(lambda: self._confirmations.load(principal, preview_id))
            trace.tool, trace.arguments = pending.preview.tool, pending.preview.arguments
            trace.conversation_id = pending.conversation_id
            return self._execute(trace, pending)
        except _Stop as stop:
            return self._stop(trace, stop)
        except Exception as exc:  # e.g. a concurrent execute holding the write lock; the ledger decides
            return self._internal(trace, exc)

    def _execute(self, trace: _Trace, pending: Pending) -> GatewayResult:
        principal, preview = trace.principal, pending.preview
        tool = self._tools[preview.tool]
        with self.engine.begin() as conn:
            found, stored = self._confirmations.stored_result(conn, principal.tenant, pending.idempotency_key)
            if not found:
                _guarded(lambda: _check_executable(pending))
                if self._confirmations.claim(conn, preview.preview_id):
                    stored = self._run_once(trace, pending, tool, conn)
                else:  # a concurrent execute won the claim: its committed result is the answer
                    found, stored = self._confirmations.stored_result(
                        conn, principal.tenant, pending.idempotency_key
                    )
                    if not found:
                        raise _Stop(
                            "denied",
                            CopilotError(ErrorCode.CONFIRMATION_USED, "This preview was already used."),
                        )
        reason = "replayed from the executions ledger" if found else None
        return self._finish(trace, "executed", result=stored, reason=reason)

    def _run_once(self, trace: _Trace, pending: Pending, tool: Tool, conn: Connection) -> Any:
        principal, preview = trace.principal, pending.preview
        store = DocumentStore(conn, principal.tenant)
        self._authorize(principal, tool, preview.arguments, store)
        run = _handled(lambda: run_handler(tool, principal, store, dict(preview.arguments), dry_run=False))
        if run.preview_hash != preview.preview_hash:
            stale = CopilotError(ErrorCode.PREVIEW_STALE, "The records changed since the preview; ask again.")
            raise _Stop("denied", stale)
        _guarded(lambda: check_limit(self.authorizer, principal, tool.spec.name, run.amount))
        self._confirmations.record(conn, pending, principal.tenant, run.result)
        return run.result


def _check_executable(pending: Pending) -> None:
    if pending.approved is None:
        raise CopilotError(ErrorCode.CONFIRMATION_REQUIRED, "The customer has not confirmed this change yet.")
    if not pending.approved:
        raise CopilotError(
            ErrorCode.CONFIRMATION_INVALID, "The customer rejected this change; do not retry it."
        )
    if pending.used:
        raise CopilotError(ErrorCode.CONFIRMATION_USED, "This preview was already used.")
    if pending.expired:
        raise CopilotError(ErrorCode.CONFIRMATION_EXPIRED, "This preview expired; ask for the change again.")
