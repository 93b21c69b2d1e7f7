"""`copilot tools call TOOL --as ROLE[:USER] --args JSON [--data PATH | --db URL] [--tenant T]`: one gateway
decision, by default on the store `copilot serve` uses (COPILOT_DATA_DIR / COPILOT_DATABASE_URL)."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any

import typer

from copilot.errors import CopilotError
from copilot.gateway.gateway import Gateway
from copilot.gateway.result import GatewayResult
from copilot.gateway.seeded import seeded_gateway, server_gateway
from copilot.principal import ROLES, Principal
from copilot.settings import Settings

tools_app = typer.Typer(help="Call tools through the permission-checked gateway.", no_args_is_help=True)


def parse_principal(value: str, tenant: str) -> Principal:
    """'customer:ethan_kim_8860' → Principal; a bare role uses the role name as user id."""
    role, _, user = value.partition(":")
    if role not in ROLES:
        raise typer.BadParameter(f"--as must be ROLE[:USER] with ROLE one of {', '.join(ROLES)}")
    return Principal(tenant=tenant, role=role, user_id=user.strip() or role)


def result_json(result: GatewayResult) -> dict[str, Any]:
    """The full decision (what an operator sees), plus what the model would see."""
    return {
        "outcome": result.outcome,
        "tool": result.tool,
        "decision_id": result.decision_id,
        "arguments": result.arguments,
        "result": result.result,
        "preview": result.preview.to_dict() if result.preview else None,
        "code": result.code,
        "message": result.message,
        "for_model": result.for_model(),
    }


@tools_app.command("call")
def call(
    tool: Annotated[str, typer.Argument(help="Tool name, e.g. get_order_details.")],
    *,
    as_: Annotated[str, typer.Option("--as", help="ROLE[:USER], e.g. customer:ethan_kim_8860.")],
    args: Annotated[str, typer.Option("--args", help="Arguments as a JSON object.")] = "{}",
    data: Annotated[
        Path | None,
        typer.Option("--data", help="τ²-format db.json, loaded into a temporary store (not the server's)."),
    ] = None,
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Tenant (default: COPILOT_DEFAULT_TENANT).")
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL to use instead of the server's store (seeded if empty)."),
    ] = None,
) -> None:
    """Print one gateway decision as JSON (a write stops at its preview; the order is not changed)."""
    settings = Settings()
    principal = parse_principal(as_, tenant or settings.default_tenant)
    try:
        arguments = json.loads(args)
    except ValueError as exc:
        raise typer.BadParameter(f"--args is not JSON: {exc}") from exc
    try:
        with _gateway(settings, data, db, principal.tenant) as gateway:
            result = gateway.call(principal, tool, arguments, conversation_id=None)
    except CopilotError as exc:
        typer.echo(json.dumps(exc.to_dict()), err=True)
        raise typer.Exit(2) from exc
    typer.echo(json.dumps(result_json(result), indent=2, default=str, ensure_ascii=False))


def _gateway(
    settings: Settings, data: Path | None, db: str | None, tenant: str
) -> AbstractContextManager[Gateway]:
    """The server's store unless --data or --db says otherwise; stderr says which one, every time."""
    if data is None and db is None:
        typer.echo(f"store: {settings.resolved_database_url} (the one `copilot serve` uses)", err=True)
        return server_gateway(settings)
    where = db or "a temporary database"
    typer.echo(
        f"store: {where}, NOT the server's (seeded from {data or 'the demo data'} when empty)", err=True
    )
    return seeded_gateway(settings, data=data, tenant=tenant, database_url=db)
