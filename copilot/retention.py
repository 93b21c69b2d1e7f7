"""Erasure and retention of conversation data.

`erase_customer` removes everything the copilot holds about one customer's conversations — the
conversation rows, their events (the transcript), turn jobs, handoff queue rows, approvals, feedback, the
outcome facts folded from their events, previews and their executions-ledger rows, model-usage rows' link
to the conversation — and the LangGraph checkpoints of their threads (`delete_checkpoints`). Audit rows
stay (they are the record of what was decided) but name a pseudonym instead of the customer:
`anon_<hmac(secret, tenant, customer)>`, stable across erasures and not reversible without the secret. `purge_older_than` deletes conversations whose last activity is older than N
days the same way (audit rows untouched). Both write an audit row of their own. The pack's domain records
(the shop's users and orders) belong to the business, not to the copilot, and are not touched.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy import ColumnElement, Connection, Engine, String, cast, delete, select, update

from copilot.errors import CopilotError, ErrorCode
from copilot.gateway.audit import AuditEntry, AuditLog
from copilot.principal import Principal
from copilot.store.schema import (
    approvals,
    audit_log,
    conversations,
    events,
    executions,
    feedback,
    handoffs,
    model_usage,
    outcome_facts,
    previews,
    turns,
)

log = logging.getLogger(__name__)


@dataclass
class Removal:
    """What one erasure or purge removed (row counts by table) and which conversations."""

    conversations: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    pseudonymized: int = 0
    """Audit rows rewritten to name the pseudonym."""
    alias: str | None = None


def pseudonym(secret: str, tenant: str, customer: str) -> str:
    digest = hmac.new(secret.encode(), f"{tenant}\x00{customer}".encode(), hashlib.sha256).hexdigest()
    return f"anon_{digest[:16]}"


def _replace(value: Any, old: str, new: str) -> Any:
    """`value` (JSON) with every string equal to `old`, or containing it, rewritten."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_replace(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _replace(v, old, new) for k, v in value.items()}
    return value


class Retention:
    def __init__(self, engine: Engine, secret: str) -> None:
        self.engine = engine
        self._secret = secret

    def conversations_of(self, tenant: str, customer: str) -> list[str]:
        query = select(conversations.c.id).where(
            conversations.c.tenant == tenant, conversations.c.customer == customer
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def check_idle(self, conversation_ids: list[str]) -> None:
        """Refuse (conflict) while one of the conversations has a turn running."""
        with self.engine.connect() as conn:
            _refuse_running(conn, conversation_ids)

    def erase_customer(self, tenant: str, customer: str, *, by: str) -> Removal:
        """Remove the customer's conversations (refused while one of them has a turn running) and
        pseudonymize their audit rows; one transaction. Checkpoints: `delete_checkpoints` afterwards."""
        began = time.perf_counter()
        alias = pseudonym(self._secret, tenant, customer)
        with self.engine.begin() as conn:
            ids = list(
                conn.execute(
                    select(conversations.c.id).where(
                        conversations.c.tenant == tenant, conversations.c.customer == customer
                    )
                ).scalars()
            )
            _refuse_running(conn, ids)
            removal = Removal(ids, _delete_conversations(conn, ids, tenant, customer), alias=alias)
            removal.pseudonymized = _pseudonymize(conn, tenant, customer, alias)
            details = {"customer": alias, "conversations": len(ids), **removal.rows}
            self._audit(conn, tenant, by, "data.erase", details=details, began=began)
        return removal

    def purge_older_than(self, days: int, *, by: str, tenant: str | None = None) -> Removal:
        """Delete conversations (of `tenant`, or all) whose last activity is more than `days` days ago."""
        began = time.perf_counter()
        cutoff = datetime.now(UTC) - timedelta(days=days)
        with self.engine.begin() as conn:
            query = select(conversations.c.id, conversations.c.tenant).where(
                conversations.c.updated_at < cutoff
            )
            if tenant is not None:
                query = query.where(conversations.c.tenant == tenant)
            found = conn.execute(query).all()
            busy = _running(conn, [row.id for row in found])
            old = [row for row in found if row.id not in busy]  # an active one is no longer old
            rows: dict[str, int] = {}
            for row in old:
                for table, count in _delete_conversations(conn, [row.id], row.tenant, None).items():
                    rows[table] = rows.get(table, 0) + count
            for audited in sorted({row.tenant for row in old} | ({tenant} if tenant else set())):
                details = {"older_than_days": days, "conversations": sum(r.tenant == audited for r in old)}
                self._audit(conn, audited, by, "data.retain", details=details, began=began)
        return Removal([row.id for row in old], rows)

    def _audit(
        self, conn: Connection, tenant: str, by: str, tool: str, *, details: dict[str, Any], began: float
    ) -> None:
        entry = AuditEntry(
            decision_id=uuid.uuid4().hex, principal=Principal(tenant, "admin", by), tool=tool,
            arguments=details, outcome="execute", policy_version="-",
            latency_ms=(time.perf_counter() - began) * 1000,
        )  # fmt: skip
        AuditLog(self.engine).write(conn, entry)


def _running(conn: Connection, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    query = select(turns.c.conversation_id).where(
        turns.c.conversation_id.in_(ids), turns.c.status == "running"
    )
    return set(conn.execute(query).scalars())


def _refuse_running(conn: Connection, ids: list[str]) -> None:
    busy = _running(conn, ids)
    if busy:
        raise CopilotError(
            ErrorCode.CONFLICT,
            f"Conversation(s) {sorted(busy)} have a turn running right now; nothing was erased. Retry in a minute.",
        )


def _delete_conversations(
    conn: Connection, ids: list[str], tenant: str, customer: str | None
) -> dict[str, int]:
    """Delete the rows of these conversations (and, given `customer`, that customer's previews made
    outside them); returns row counts by table."""
    label = f"customer:{customer}@{tenant}" if customer is not None else None
    owned: ColumnElement[bool] = previews.c.conversation_id.in_(ids)
    if label is not None:
        owned = owned | ((previews.c.tenant == tenant) & (previews.c.principal == label))
    keys = [f"preview:{p}" for p in conn.execute(select(previews.c.preview_id).where(owned)).scalars()]
    counts = {
        "events": conn.execute(delete(events).where(events.c.conversation_id.in_(ids))).rowcount,
        "turns": conn.execute(delete(turns).where(turns.c.conversation_id.in_(ids))).rowcount,
        "handoffs": conn.execute(delete(handoffs).where(handoffs.c.conversation_id.in_(ids))).rowcount,
        "approvals": conn.execute(delete(approvals).where(approvals.c.conversation_id.in_(ids))).rowcount,
        "feedback": conn.execute(delete(feedback).where(feedback.c.conversation_id.in_(ids))).rowcount,
        "outcome_facts": conn.execute(
            delete(outcome_facts).where(outcome_facts.c.conversation_id.in_(ids))
        ).rowcount,
        "executions": _delete_keys(conn, tenant, keys),
        "previews": conn.execute(delete(previews).where(owned)).rowcount,
        "conversations": conn.execute(delete(conversations).where(conversations.c.id.in_(ids))).rowcount,
    }
    conn.execute(
        update(model_usage).where(model_usage.c.conversation_id.in_(ids)).values(conversation_id=None)
    )
    return counts


def _delete_keys(conn: Connection, tenant: str, keys: list[str]) -> int:
    done = 0
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        where = (executions.c.tenant == tenant) & executions.c.idempotency_key.in_(chunk)
        done += conn.execute(delete(executions).where(where)).rowcount
    return done


def _pseudonymize(conn: Connection, tenant: str, customer: str, alias: str) -> int:
    """Audit rows naming the customer (as principal, or inside arguments and reasons) name the alias."""
    label, alias_label = f"customer:{customer}@{tenant}", f"customer:{alias}@{tenant}"
    mentions = (audit_log.c.principal == label) | cast(audit_log.c.arguments, String).contains(customer)
    mentions = mentions | audit_log.c.reason.contains(customer)
    columns = (audit_log.c.seq, audit_log.c.principal, audit_log.c.arguments, audit_log.c.reason)
    rows = conn.execute(select(*columns).where(audit_log.c.tenant == tenant, mentions)).all()
    changed = 0
    for row in rows:
        arguments = _replace(row.arguments, customer, alias)
        reason = row.reason.replace(customer, alias) if row.reason else row.reason
        principal = alias_label if row.principal == label else row.principal
        if (principal, arguments, reason) != (row.principal, row.arguments, row.reason):
            values = {"principal": principal, "arguments": arguments, "reason": reason}
            conn.execute(update(audit_log).where(audit_log.c.seq == row.seq).values(**values))
            changed += 1
    return changed


async def delete_checkpoints(saver: BaseCheckpointSaver[str], conversation_ids: Iterable[str]) -> int:
    """Remove the graph threads (thread id = conversation id) of erased or purged conversations."""
    count = 0
    for conversation_id in conversation_ids:
        await saver.adelete_thread(conversation_id)
        count += 1
    return count


async def retain_periodically(
    retention: Retention, saver: BaseCheckpointSaver[str], days: int, *, every: float = 3600.0
) -> None:
    """The runtime's retention loop (COPILOT_RETENTION_DAYS): purge now, then every `every` seconds. Every
    worker may run it; deleting what another worker just deleted is a no-op."""
    while True:
        try:
            removal = await asyncio.to_thread(retention.purge_older_than, days, by="retention")
            await delete_checkpoints(saver, removal.conversations)
            if removal.conversations:
                log.warning(
                    "retention: removed %d conversation(s) idle for over %d days",
                    len(removal.conversations),
                    days,
                )
        except Exception:  # the database is down: try again at the next round
            log.exception("retention purge failed; retrying in %.0f s", every)
        await asyncio.sleep(every)
