"""Previews awaiting a human decision, and the exactly-once execution ledger.

A preview is bound to (principal, tool, canonical-args hash, preview hash), expires, is decided once and
executed at most once: the claim is an atomic `UPDATE ... WHERE used_at IS NULL` in the executing transaction,
which also writes the `executions` row keyed by the preview's idempotency key (`idempotency_key(preview_id)`:
one preview, one effect — never the model's tool-call id, which a model may reuse for another change).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from copilot.errors import CopilotError, ErrorCode
from copilot.gateway.describe import summary_of
from copilot.gateway.result import FieldChange, Preview
from copilot.gateway.sandbox import Run, sha256_json
from copilot.principal import Principal
from copilot.store.schema import executions, previews


def idempotency_key(preview_id: str) -> str:
    """The executions-ledger key of a preview: derived from the preview alone."""
    return f"preview:{preview_id}"


def now() -> datetime:
    return datetime.now(UTC)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Pending:
    """A stored preview as read back for decide/execute."""

    preview: Preview
    principal: str
    args_hash: str
    idempotency_key: str
    approved: bool | None
    used: bool
    conversation_id: str | None = None

    @property
    def expired(self) -> bool:
        return now() >= self.preview.expires_at


def _to_preview(row: Any) -> Preview:
    body = row.preview
    changes = tuple(
        FieldChange(
            c["kind"], c["id"], c["before"], c["after"], {k: tuple(v) for k, v in c["changed"].items()}
        )
        for c in body["changes"]
    )
    return Preview(
        preview_id=row.preview_id, tool=row.tool, arguments=row.arguments, summary=body["summary"],
        changes=changes, amount=body["amount"], facts=body["facts"],
        expires_at=_utc(row.expires_at), preview_hash=row.preview_hash, approval=body.get("approval"),
        sentences=tuple(body.get("sentences") or [body["summary"]]),
    )  # fmt: skip


def _already_decided() -> CopilotError:
    return CopilotError(ErrorCode.CONFIRMATION_USED, "This preview was already decided; ask for a new one.")


class Confirmations:
    def __init__(self, engine: Engine, ttl: timedelta) -> None:
        self._engine = engine
        self._ttl = ttl

    def create(
        self, principal: Principal, tool: str, args: dict[str, Any], run: Run, *, conversation_id: str | None,
        sentences: tuple[str, ...], approval: dict[str, Any] | None = None,
    ) -> Preview:  # fmt: skip
        created = now()
        preview_id = secrets.token_urlsafe(18)
        if approval is not None:
            sentences = (*sentences, f"This is over the {approval['limit']:,.2f} limit: after you confirm, a "
                         "supervisor must approve it before anything changes.")  # fmt: skip
        body = {
            "summary": summary_of(sentences),
            "sentences": list(sentences),
            "changes": [
                {"kind": c.kind, "id": c.id, "before": c.before, "after": c.after,
                 "changed": {k: list(v) for k, v in c.changed.items()}}
                for c in run.changes
            ],
            "amount": run.amount,
            "facts": run.facts,
            **({"approval": approval} if approval is not None else {}),
        }  # fmt: skip
        row = {
            "preview_id": preview_id, "tenant": principal.tenant,
            "principal": principal.label(), "conversation_id": conversation_id, "tool": tool,
            "arguments": args, "args_hash": sha256_json(args), "preview_hash": run.preview_hash,
            "preview": body, "idempotency_key": idempotency_key(preview_id), "created_at": created,
            "expires_at": created + self._ttl,
        }  # fmt: skip
        with self._engine.begin() as conn:
            conn.execute(insert(previews).values(**row))
        return self.load(principal, preview_id).preview

    def load(self, principal: Principal, preview_id: str, conn: Connection | None = None) -> Pending:
        """The preview if it exists in the principal's tenant and belongs to this principal."""
        query = select(previews).where(
            previews.c.preview_id == preview_id, previews.c.tenant == principal.tenant
        )
        if conn is None:
            with self._engine.connect() as own:
                row = own.execute(query).first()
        else:
            row = conn.execute(query).first()
        if row is None:
            raise CopilotError(ErrorCode.CONFIRMATION_INVALID, "No such preview; ask for the change again.")
        if row.principal != principal.label():
            raise CopilotError(
                ErrorCode.CONFIRMATION_MISMATCH,
                "This preview belongs to someone else; only they can confirm it.",
            )
        preview = _to_preview(row)
        if sha256_json(row.arguments) != row.args_hash:
            raise CopilotError(
                ErrorCode.CONFIRMATION_INVALID, "The preview was altered; ask for the change again."
            )
        return Pending(
            preview, row.principal, row.args_hash, row.idempotency_key, row.approved, row.used_at is not None,
            row.conversation_id,
        )  # fmt: skip

    def decide(self, principal: Principal, preview_id: str, approve: bool, conn: Connection) -> Pending:
        """Record the decision on `conn`, inside its open transaction (the caller commits). Checked first
        with reads only, so a refusal normally happens before this transaction writes anything."""
        pending = self.load(principal, preview_id, conn)
        if pending.approved is not None or pending.used:
            raise _already_decided()
        if pending.expired:
            raise CopilotError(
                ErrorCode.CONFIRMATION_EXPIRED, "This preview expired; ask for the change again."
            )
        claimed = conn.execute(
            update(previews)
            .where(previews.c.preview_id == preview_id, previews.c.decided_at.is_(None))
            .values(approved=approve, approved_by=principal.label(), decided_at=now())
        ).rowcount
        if claimed != 1:
            raise _already_decided()
        return pending

    @staticmethod
    def extend(conn: Connection, preview_id: str, until: datetime) -> None:
        """Keep a confirmed preview valid while it waits for a supervisor's approval."""
        conn.execute(update(previews).where(previews.c.preview_id == preview_id).values(expires_at=until))

    @staticmethod
    def claim(conn: Connection, preview_id: str) -> bool:
        """Mark the preview used inside the executing transaction; False if someone else already did."""
        result = conn.execute(
            update(previews)
            .where(previews.c.preview_id == preview_id, previews.c.used_at.is_(None))
            .values(used_at=now())
        )
        return result.rowcount == 1

    @staticmethod
    def stored_result(conn: Connection, tenant: str, key: str) -> tuple[bool, Any]:
        row = conn.execute(
            select(executions.c.result).where(
                executions.c.tenant == tenant, executions.c.idempotency_key == key
            )
        ).first()
        return (True, row[0]["value"]) if row else (False, None)

    @staticmethod
    def record(conn: Connection, pending: Pending, tenant: str, result: Any) -> None:
        conn.execute(
            insert(executions).values(
                tenant=tenant, idempotency_key=pending.idempotency_key, tool=pending.preview.tool,
                args_hash=pending.args_hash,
                result={"value": result}, executed_at=now(),
            )
        )  # fmt: skip
