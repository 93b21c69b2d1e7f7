"""Helpers for the retail pack tests: run a tool like the gateway does (canonicalise, validate, handle)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import Engine, text

from copilot.gateway.spec import ToolContext, ToolSpec
from copilot.packs import Pack, load_pack
from copilot.principal import Principal, Role
from copilot.store.database import make_engine
from copilot.store.documents import DocumentStore

PACK_DIR = Path(__file__).resolve().parents[2] / "tools" / "retail"
TENANT = "demo"
AGENT = Principal(TENANT, "agent", "agent_0001")


def retail_pack() -> Pack:
    return load_pack(PACK_DIR)


def principal(role: Role, user_id: str) -> Principal:
    return Principal(TENANT, role, user_id)


def canonical(spec: ToolSpec, args: dict[str, Any]) -> dict[str, Any]:
    """Apply the spec's identifier canonicalizers (to a string or each string of a list)."""
    out = dict(args)
    for name, canon in spec.identifiers.items():
        value = out.get(name)
        if isinstance(value, str):
            out[name] = canon(value)
        elif isinstance(value, list):
            out[name] = [canon(v) if isinstance(v, str) else v for v in value]
    return out


def validate(spec: ToolSpec, args: dict[str, Any]) -> dict[str, Any]:
    """Canonicalise then validate strictly; raises ValueError or jsonschema.ValidationError."""
    checked = canonical(spec, args)
    Draft202012Validator(dict(spec.parameters)).validate(checked)
    return checked


def run(
    pack: Pack, store: DocumentStore, tool: str, args: dict[str, Any], who: Principal = AGENT
) -> tuple[Any, ToolContext]:
    """Validate and execute one tool call; returns the result and the context (amount, facts)."""
    spec_tool = pack.tool(tool)
    ctx = ToolContext(principal=who, store=store, dry_run=False)
    result = spec_tool.handler(ctx, validate(spec_tool.spec, args))
    return result, ctx


def seed_template(pack: Pack, path: Path, data: Path | None) -> Path:
    """Seed a SQLite file once; checkpoint the WAL so the single file can be copied per test."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    with engine.begin() as conn:
        pack.seed(DocumentStore(conn, TENANT), data)
    with engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return path


@contextmanager
def store_copy(template: Path, target: Path) -> Iterator[DocumentStore]:
    """A DocumentStore over a fresh copy of `template`, committed when the block ends without error."""
    shutil.copyfile(template, target)
    engine = make_engine(f"sqlite:///{target}")
    try:
        with engine.begin() as conn:
            yield DocumentStore(conn, TENANT)
    finally:
        engine.dispose()


@contextmanager
def rolled_back(engine: Engine) -> Iterator[DocumentStore]:
    """A DocumentStore whose transaction is rolled back afterwards: every block sees the pristine data."""
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            yield DocumentStore(conn, TENANT)
        finally:
            transaction.rollback()
