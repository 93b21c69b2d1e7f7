"""Append-only audit of every gateway decision; arguments and reasons pass copilot.redaction."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine, insert

from copilot.principal import Principal
from copilot.prompts.stamp import current_stamp
from copilot.redaction import redact_fields, redact_text
from copilot.store.schema import audit_log
from copilot.telemetry import metrics
from copilot.telemetry.tracing import trace_id

AuditOutcome = Literal[
    "allow",
    "deny",
    "invalid",
    "preview",
    "confirm",
    "reject",
    "execute",
    "replay",
    "error",
    "simulate",
    "completed",
    "awaiting_confirmation",
    "handoff",
    "failed",
    "cancelled",
]
"""One row per gateway operation: a read that ran is `execute` and a write that was dry-run is `preview`
(both imply the `allow` decision); a write that ran is `execute`, committed in the write's own transaction
(so `execute` rows of writes are exactly the committed writes); a repeated execute answered from the ledger
is `replay`; `confirm`/`reject` are the human's decisions (committed with the decision); `deny` includes
limits, confirmation failures and fail-closed errors; `error` is a handler or infrastructure failure;
`simulate` is a what-if of the policy simulator (the principal is the administrator who ran it). A turn's own
record (tool TURN_TOOL) has the turn's status as its outcome (copilot/prompts/turns.py).

Rows written during a turn carry its prompt version, model (provider:model) and turn id
(copilot/prompts/stamp.py); every row carries the trace id of the turn or request that wrote it."""

TURN_TOOL = "(turn)"

_log = logging.getLogger(__name__)
_INSERT = insert(audit_log)
"""Built once: the row goes in as parameters, so SQLAlchemy reuses its compiled statement (.values(**row)
per call rebuilt and re-keyed the statement: ~0.3 ms of each gateway call)."""


redact = redact_fields
"""Audit arguments are redacted by key (copilot.redaction)."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    decision_id: str
    principal: Principal
    tool: str
    arguments: dict[str, Any]
    outcome: AuditOutcome
    policy_version: str
    latency_ms: float
    code: str | None = None
    reason: str | None = None
    conversation_id: str | None = None


def _row(entry: AuditEntry) -> dict[str, Any]:
    if entry.tool != TURN_TOOL:
        metrics.count_decision(entry.tool, entry.outcome)
    stamp = current_stamp()
    return {
        "decision_id": entry.decision_id,
        "at": datetime.now(UTC),
        "tenant": entry.principal.tenant,
        "principal": entry.principal.label(),
        "role": entry.principal.role,
        "conversation_id": entry.conversation_id,
        "tool": entry.tool,
        "arguments": redact(entry.arguments),
        "outcome": entry.outcome,
        "code": entry.code,
        "reason": None if entry.reason is None else redact_text(entry.reason),
        "policy_version": entry.policy_version,
        "latency_ms": entry.latency_ms,
        "trace_id": trace_id(),
        **(stamp.audit_fields() if stamp is not None else _UNSTAMPED),
    }


_UNSTAMPED = {"prompt_version": None, "model": None, "turn_id": None}


def _holds_sqlite_write_lock(conn: Connection) -> bool:
    """pysqlite opens its transaction at the first write and keeps SQLite's write lock until it ends."""
    return conn.dialect.name == "sqlite" and bool(
        getattr(conn.connection.dbapi_connection, "in_transaction", False)
    )


class AuditLog:
    """One row per decision: in its own transaction (it survives a rolled-back handler), or inside the
    transaction of the effect it records (`write`), or beside a caller's transaction (`record_detached`)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._detached: list[threading.Thread] = []

    def write(self, conn: Connection, entry: AuditEntry) -> None:
        """Insert the row inside `conn`'s open transaction: it commits or rolls back with the effect."""
        conn.execute(_INSERT, _row(entry))

    def record(self, entry: AuditEntry, conn: Connection | None = None) -> None:
        """Commit the row in its own transaction; on `conn` (the gateway call's connection, whose handler
        transaction has ended) when given, which saves a pool checkout per call."""
        row = _row(entry)
        if conn is None or conn.invalidated:
            with self._engine.begin() as own:
                own.execute(_INSERT, row)
            return
        if conn.in_transaction():  # only ever a read (the stamp) or an already rolled-back handler
            conn.rollback()
        with conn.begin():
            conn.execute(_INSERT, row)

    def record_detached(self, entry: AuditEntry, caller: Connection) -> None:
        """Commit the row on another connection, so it survives `caller`'s transaction rolling back. When
        `caller` holds SQLite's write lock, a second writer would wait for it while the caller waits for us:
        the row is then written by a thread that waits (busy_timeout) until the caller's transaction ends."""
        if not _holds_sqlite_write_lock(caller):
            self.record(entry)
            return
        thread = threading.Thread(target=self._record_quietly, args=(entry,), name="audit-detached")
        self._detached = [*(t for t in self._detached if t.is_alive()), thread]
        thread.start()

    def _record_quietly(self, entry: AuditEntry) -> None:
        try:
            self.record(entry)
        except Exception:  # nothing to report to: the caller has moved on
            _log.exception("audit row of refused decision %s could not be written", entry.decision_id)

    def join_detached(self, timeout: float = 10.0) -> None:
        """Wait for rows handed to threads by record_detached (tests, shutdown)."""
        while self._detached:
            self._detached.pop().join(timeout)
