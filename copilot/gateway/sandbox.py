"""Running a handler inside a transaction: always rolled back (dry-run, reads) or committed by the caller."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine

from copilot.gateway.result import FieldChange
from copilot.gateway.spec import Tool, ToolContext
from copilot.principal import Principal
from copilot.store.documents import Change, DocumentStore


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_json(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Run:
    """What one handler run did: its result, the per-record diff, money moved and preview facts."""

    result: Any
    changes: tuple[FieldChange, ...]
    amount: float | None
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def preview_hash(self) -> str:
        body = {
            "changes": [[c.kind, c.id, c.before, c.after] for c in self.changes],
            "amount": self.amount,
            "facts": self.facts,
        }
        return sha256_json(body)


def diff(changes: list[Change]) -> tuple[FieldChange, ...]:
    """One FieldChange per record: first `before`, last `after`, and the top-level fields that differ."""
    merged: dict[tuple[str, str], tuple[dict[str, Any] | None, dict[str, Any] | None]] = {}
    for change in changes:
        key = (change.kind, change.id)
        before = merged[key][0] if key in merged else change.before
        merged[key] = (before, change.after)
    out: list[FieldChange] = []
    for (kind, id_), (before, after) in merged.items():
        old, new = before or {}, after or {}
        changed = {
            k: (old.get(k), new.get(k)) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)
        }
        if changed or before is None or after is None:
            out.append(FieldChange(kind, id_, before, after, changed))
    return tuple(out)


@contextmanager
def rolled_back(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back whatever happens."""
    with engine.connect() as conn, rolled_back_on(conn):
        yield conn


@contextmanager
def rolled_back_on(conn: Connection) -> Iterator[Connection]:
    """A transaction on an open connection that is rolled back whatever happens (the connection stays open
    for the caller, e.g. for the audit row)."""
    if conn.in_transaction():  # e.g. the implicit one of the policy stamp read: nothing was written
        conn.rollback()
    trans = conn.begin()
    try:
        yield conn
    finally:
        trans.rollback()


def run_handler(
    tool: Tool, principal: Principal, store: DocumentStore, args: dict[str, Any], *, dry_run: bool
) -> Run:
    """Run the handler on a private copy of the canonical arguments and collect what it changed."""
    ctx = ToolContext(principal=principal, store=store, dry_run=dry_run)
    result = tool.handler(ctx, copy.deepcopy(args))
    plain = json.loads(canonical_json(result))
    facts = json.loads(canonical_json(ctx.facts))
    return Run(plain, diff(store.changes), ctx.amount, facts)
