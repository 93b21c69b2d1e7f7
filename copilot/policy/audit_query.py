"""Read side of the gateway audit log for admins: filter by tool, principal, outcome, conversation; paginated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select

from copilot.store.schema import audit_log


@dataclass(frozen=True, slots=True)
class AuditFilter:
    tenant: str
    tool: str | None = None
    principal: str | None = None
    outcome: str | None = None
    conversation_id: str | None = None
    policy_version: str | None = None


def query_audit(engine: Engine, where: AuditFilter, *, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """Newest first: {"items": [...], "total": N, "limit", "offset"}."""
    conditions = [audit_log.c.tenant == where.tenant]
    for column, value in (
        (audit_log.c.tool, where.tool), (audit_log.c.principal, where.principal),
        (audit_log.c.outcome, where.outcome), (audit_log.c.conversation_id, where.conversation_id),
        (audit_log.c.policy_version, where.policy_version),
    ):  # fmt: skip
        if value is not None:
            conditions.append(column == value)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(audit_log).where(*conditions)).scalar_one()
        rows = conn.execute(
            select(audit_log).where(*conditions).order_by(audit_log.c.seq.desc()).limit(limit).offset(offset)
        ).mappings()
        items = [{**row, "at": row["at"].isoformat()} for row in rows]
    return {"items": items, "total": int(total), "limit": limit, "offset": offset}
