"""`copilot data erase --customer ID | retain [--days N]`: erasure and retention (copilot/retention.py), and
`copilot audit export`: the audit log as JSONL for a SIEM."""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.console import Console
from sqlalchemy import Engine, select

from copilot.agent.checkpoint import open_checkpointer
from copilot.auth import resolve_secret
from copilot.errors import CopilotError, ErrorCode
from copilot.retention import Removal, Retention, delete_checkpoints
from copilot.settings import Settings
from copilot.store.database import make_engine
from copilot.store.schema import audit_log
from copilot.telemetry.completeness import DEFAULT_MINIMUM, measure, report_lines

data_app = typer.Typer(help="Customer data: erase one customer's conversations, apply the retention period.")
audit_app = typer.Typer(help="The audit log: export it for a SIEM, measure its completeness.")
By = Annotated[str | None, typer.Option("--by", help="Who runs this (audit record); default: the OS user.")]
Tenant = Annotated[str | None, typer.Option("--tenant", help="Default: COPILOT_DEFAULT_TENANT.")]


def _fail(exc: CopilotError) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {exc.message}", soft_wrap=True)
    return typer.Exit(2)


async def _forget_threads(settings: Settings, conversation_ids: list[str]) -> int:
    async with open_checkpointer(settings) as saver:
        return await delete_checkpoints(saver, conversation_ids)


def _report(removal: Removal, threads: int) -> str:
    rows = ", ".join(f"{table} {count}" for table, count in removal.rows.items() if count)
    return f"removed {len(removal.conversations)} conversation(s) ({rows or 'no rows'}); checkpoint threads {threads}"


@data_app.command("erase")
def erase(
    customer: Annotated[str, typer.Option("--customer", help="The customer's user id (as in their token).")],
    tenant: Tenant = None,
    by: By = None,
) -> None:
    """Erase a customer's conversations, transcripts, turn jobs, handoffs, previews and checkpoints; their audit
    rows stay, naming a pseudonym."""
    settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    tenant, customer = tenant or settings.default_tenant, customer.strip()
    try:
        retention = Retention(engine, resolve_secret(settings))
        # checkpoints first: if anything fails after them, the conversations are still listed, so running
        # the erase again finds (and finishes) them
        listed = retention.conversations_of(tenant, customer)
        retention.check_idle(listed)
        threads = asyncio.run(_forget_threads(settings, listed))
        removal = retention.erase_customer(tenant, customer, by=by or getpass.getuser())
    except CopilotError as exc:
        raise _fail(exc) from exc
    finally:
        engine.dispose()
    started = [cid for cid in removal.conversations if cid not in listed]  # a conversation begun meanwhile
    threads += asyncio.run(_forget_threads(settings, started)) if started else 0
    typer.echo(f"{_report(removal, threads)}; {removal.pseudonymized} audit row(s) now name {removal.alias}")


@data_app.command("retain")
def retain(
    days: Annotated[
        int | None, typer.Option("--days", min=1, help="Default: COPILOT_RETENTION_DAYS.")
    ] = None,
    tenant: Tenant = None,
    by: By = None,
) -> None:
    """Delete conversations whose last activity is older than the retention period (idle ones only)."""
    settings = Settings()
    period = days or settings.retention_days
    if period is None:
        missing = "No retention period: pass --days N or set COPILOT_RETENTION_DAYS."
        raise _fail(CopilotError(ErrorCode.CONFIGURATION, missing))
    engine = make_engine(settings.resolved_database_url)
    try:
        removal = Retention(engine, resolve_secret(settings)).purge_older_than(
            period, by=by or getpass.getuser(), tenant=tenant
        )
    finally:
        engine.dispose()
    threads = asyncio.run(_forget_threads(settings, removal.conversations))
    typer.echo(f"older than {period} days: {_report(removal, threads)}")


def audit_records(engine: Engine, *, after: int = 0, tenant: str | None = None) -> Iterator[dict[str, Any]]:
    """Audit rows with seq > `after`, oldest first, as JSON-ready dicts (timestamps in ISO 8601)."""
    query = select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq)
    if tenant is not None:
        query = query.where(audit_log.c.tenant == tenant)
    with engine.connect() as conn:
        for row in conn.execution_options(yield_per=1000).execute(query):
            record = dict(row._mapping)
            record["at"] = record["at"].isoformat() if isinstance(record["at"], datetime) else record["at"]
            yield record


def write_jsonl(records: Iterator[dict[str, Any]], out: TextIO) -> int:
    count = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        count += 1
    return count


@audit_app.command("export")
def export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    after: Annotated[
        int, typer.Option("--after", min=0, help="Only rows with seq above this (incremental).")
    ] = 0,
    tenant: Tenant = None,
) -> None:
    """Write the audit log as JSON Lines (one decision per line, with its seq, principal, tool, redacted
    arguments, outcome, policy version and trace id), oldest first."""
    engine = make_engine(Settings().resolved_database_url)
    try:
        records = audit_records(engine, after=after, tenant=tenant)
        if output is None:
            count = write_jsonl(records, sys.stdout)
        else:
            with output.open("w", encoding="utf-8") as out:
                count = write_jsonl(records, out)
    finally:
        engine.dispose()
    Console(stderr=True).print(f"exported {count} audit row(s)")


@audit_app.command("completeness")
def completeness(
    since: Annotated[
        datetime | None, typer.Option("--since", help="Only rows at or after this time (ISO, UTC).")
    ] = None,
    tenant: Annotated[str | None, typer.Option("--tenant", help="One tenant (default: all).")] = None,
    minimum: Annotated[
        float, typer.Option("--min", min=0, max=100, help="Exit 1 below this percentage.")
    ] = DEFAULT_MINIMUM,
) -> None:
    """The share of turns and gateway calls whose audit row names the trace id, policy version, prompt
    version and model (people's decisions over the API: trace id and policy version). Exit 1 below --min."""
    engine = make_engine(Settings().resolved_database_url)
    try:
        start = since.replace(tzinfo=since.tzinfo or UTC) if since else None
        result = measure(engine, since=start, tenant=tenant)
    finally:
        engine.dispose()
    for line in report_lines(result, minimum):
        typer.echo(line)
    if result.percent is not None and result.percent < minimum:
        raise typer.Exit(1)


usage_app = typer.Typer(help="Model usage and cost (the model_usage table).")


@usage_app.command("report")
def usage_report(
    since: Annotated[
        datetime | None, typer.Option("--since", help="Only calls at or after this time (ISO, UTC).")
    ] = None,
    tenant: Annotated[str | None, typer.Option("--tenant", help="One tenant (default: all).")] = None,
) -> None:
    """Tokens and cost per tenant: per conversation, and per resolved conversation (no handoff)."""
    from rich.table import Table

    from copilot.telemetry.report import tenant_costs

    engine = make_engine(Settings().resolved_database_url)
    try:
        rows = tenant_costs(
            engine, since=since.replace(tzinfo=since.tzinfo or UTC) if since else None, tenant=tenant
        )
    finally:
        engine.dispose()
    table = Table(title="Model usage and cost (USD)")
    for column in ("tenant", "conversations", "turns", "calls", "input", "output", "estimated calls", "cost",
                   "per conversation", "resolved", "per resolved"):  # fmt: skip
        table.add_column(column, justify="left" if column == "tenant" else "right")

    def money(value: float | None) -> str:
        return "-" if value is None else f"{value:.6f}"

    for r in rows:
        table.add_row(r.tenant, str(r.conversations), str(r.turns), str(r.calls), str(r.input_tokens),
                      str(r.output_tokens), str(r.estimated_calls), money(r.cost_usd),
                      money(r.cost_per_conversation), str(r.resolved), money(r.cost_per_resolved))  # fmt: skip
    Console(width=160).print(table)
